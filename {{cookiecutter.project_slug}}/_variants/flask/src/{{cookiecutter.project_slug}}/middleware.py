"""Request hooks for what every request needs: request ID, body-size and rate limits,
security headers, metrics and the access log."""

import time
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from {{ cookiecutter.project_slug }} import metrics, request_id
from {{ cookiecutter.project_slug }}.client_address import ClientAddress
from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.errors import RateLimitedError
from {{ cookiecutter.project_slug }}.limiter import RateLimiter
from {{ cookiecutter.project_slug }}.logging import get_logger
from {{ cookiecutter.project_slug }}.ratelimit import is_exempt
from {{ cookiecutter.project_slug }}.security import security_headers


def install(app: Flask, settings: Settings, limiter: RateLimiter | None) -> None:
    # Werkzeug refuses larger bodies itself, by Content-Length or while streaming.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    max_body = settings.max_request_bytes
    slow_seconds = settings.slow_request_ms / 1000
    clients = ClientAddress(settings.trusted_proxies)
    headers = security_headers(settings.is_production)
    log = get_logger("access")

    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()
        rid = request_id.accept_or_new(request.headers.get(request_id.HEADER))
        g.request_id = rid
        g.request_id_token = request_id.bind(rid)
        g.client = clients.resolve(request.remote_addr, request.headers.get("X-Forwarded-For"))
        # Refused before any view runs, whether or not it would read the body.
        if request.content_length is not None and request.content_length > max_body:
            raise RequestEntityTooLarge()
        if limiter is not None and not is_exempt(request.path):
            wait = limiter.retry_after(g.client)
            if wait is not None:
                raise RateLimitedError(wait)

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers.extend(headers)
        response.headers[request_id.HEADER] = g.get("request_id") or request_id.accept_or_new(None)
        duration = time.perf_counter() - g.get("started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule else metrics.UNMATCHED_ROUTE
        metrics.observe(request.method, route, response.status_code, duration)
        fields: dict[str, Any] = {
            "method": request.method,
            "route": route,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 2),
            "client": g.get("client"),
        }
        if is_exempt(request.path):
            log.debug("request", **fields)
        elif duration > slow_seconds:
            log.warning("request", slow=True, **fields)
        else:
            log.info("request", **fields)
        return response

    @app.teardown_request
    def forget(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id.unbind(token)
