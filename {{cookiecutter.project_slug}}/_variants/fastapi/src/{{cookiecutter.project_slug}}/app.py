"""FastAPI application factory."""

from fastapi import FastAPI

from {{ cookiecutter.project_slug }} import SERVICE_NAME, __version__
from {{ cookiecutter.project_slug }}.config import Settings, get_settings
{%- if cookiecutter.database != "none" %}
from {{ cookiecutter.project_slug }}.db import Database
from {{ cookiecutter.project_slug }}.items import router as items_router
{%- endif %}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    docs = not settings.is_production
    app = FastAPI(
        title=SERVICE_NAME,
        version=__version__,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

{%- if cookiecutter.database != "none" %}

    database = Database(settings)
    app.state.database = database
    app.include_router(items_router)
{%- endif %}

    return app
