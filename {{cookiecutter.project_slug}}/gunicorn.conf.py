"""gunicorn settings: `gunicorn -c gunicorn.conf.py` starts the service everywhere."""

import multiprocessing
import os

wsgi_app = "{{ cookiecutter.project_slug }}.app:create_app()"
{%- if cookiecutter.framework == "fastapi" %}
worker_class = "uvicorn_worker.UvicornWorker"
{%- else %}
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
{%- endif %}

# PaaS platforms hand the port in PORT; everything else can set BIND.
bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# The classic (2 x cores) + 1: one worker per core busy on CPU while another waits on I/O.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
