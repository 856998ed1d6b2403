"""The API document's rules, whatever the framework: which errors an operation can answer, all
in the one error shape, and the committed copy of the document (docs/openapi.json).

Each framework builds the document of its routes (core/openapi.py); the platform answers more
than a route says (the middleware's refusals, the guard's 401 and 403, a database that is
down), and those answers follow from what an operation is, so they are added here, by rule.
A route that raises something more (`ConflictError`) declares it itself.
"""

import json
import sys
from pathlib import Path
from typing import Any

from {{ cookiecutter.project_slug }}.core.error_shape import (
    ErrorBody,
)
from {{ cookiecutter.project_slug }}.core.errors import (
    code_for_status,
)
from {{ cookiecutter.project_slug }}.core.ratelimit import (
    is_exempt,
)

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorBody"}
# Any request: a malformed one, another method on a known path, one that does not arrive
# within REQUEST_READ_TIMEOUT, a body over MAX_REQUEST_BYTES, too many or too long headers.
EVERY_OPERATION = (400, 405, 408, 413, 431)
# What the guard answers (core/auth/).
GUARDED = (401, 403)
# The resources' routes (/api/v1/...) answer 503 when a dependency cannot be reached (the
# database, an issuer's keys).
RESOURCES = "/api/v1/"
# The operational routes that answer 503 (readiness) or 401 (METRICS_TOKEN).
OPERATIONAL = {"/health/ready": (503,), "/health": (401, 503), "/metrics": (401,)}
# The committed copy, which tests/test_api_document.py holds equal to what the app serves.
COMMITTED = Path("docs/openapi.json")


def statuses(path: str, operation: dict[str, Any]) -> list[int]:
    """Every error status the platform can answer for this operation."""
    found = [*EVERY_OPERATION, *OPERATIONAL.get(path, ())]
    if not is_exempt(path):
        found.append(429)
    if "security" in operation:
        found += GUARDED
    if path.startswith(RESOURCES):
        found.append(503)
    if "{" in path:
        found.append(404)
    if "parameters" in operation or "requestBody" in operation:
        found.append(422)
    declared = {int(status) for status in operation.get("responses", {}) if status.isdigit()}
    return sorted(set(found) | {status for status in declared if status >= 400})


def error_response(status: int) -> dict[str, Any]:
    # Described by the contract's code, the same on every Python (whose status phrases change).
    return {
        "description": code_for_status(status),
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Add every error answer to every operation, each pointing at ErrorBody."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorBody"] = error_schema
    # FastAPI's own validation error shapes are never sent: 422 is the error shape too.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in statuses(path, operation):
                responses[str(status)] = error_response(status)
    metrics = document.get("paths", {}).get("/metrics", {}).get("get")
    if metrics is not None:
        # Prometheus' text format, not JSON.
        metrics["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    return document


def render(document: dict[str, Any]) -> str:
    """The committed spelling: one key order, two-space indents, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def served() -> str:
    """What a development service with the default routes serves, whatever .env says."""
    # Imported here: the app imports this module's rules through core/openapi.py.
    from {{ cookiecutter.project_slug }}.app import (
        create_app,
    )
    from {{ cookiecutter.project_slug }}.config import (
        Settings,
    )
    from {{ cookiecutter.project_slug }}.core.openapi import (
        document,
    )

    settings = Settings(environment="development", metrics_enabled=True)
    return render(document(create_app(settings)))


def main() -> None:
    """`make openapi`: write what the app serves to docs/openapi.json (or the path given)."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else COMMITTED
    target.write_text(served(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")


if __name__ == "__main__":
    main()
