"""Flask application factory."""

from flask import Flask

from {{ cookiecutter.project_slug }}.config import Settings, get_settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key

    @app.get("/health/live")
    def live() -> dict[str, str]:
        return {"status": "ok"}

    return app
