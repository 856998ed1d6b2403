"""Flask application factory."""

from flask import Flask

from {{ cookiecutter.project_slug }}.config import Settings, get_settings
{%- if cookiecutter.database != "none" %}
from {{ cookiecutter.project_slug }}.db import Database
from {{ cookiecutter.project_slug }}.items import blueprint as items_blueprint
{%- endif %}


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key

    @app.get("/health/live")
    def live() -> dict[str, str]:
        return {"status": "ok"}

{%- if cookiecutter.database != "none" %}

    database = Database(settings)
    app.extensions["database"] = database
    app.register_blueprint(items_blueprint)
{%- endif %}

    return app
