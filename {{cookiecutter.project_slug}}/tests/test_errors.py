import pytest

from {{ cookiecutter.project_slug }}.core.errors import (
    AppError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (AppError, 500, "INTERNAL_ERROR"),
        (NotFoundError, 404, "NOT_FOUND"),
        (ConflictError, 409, "CONFLICT"),
        (ServiceUnavailableError, 503, "SERVICE_UNAVAILABLE"),
    ],
)
def test_each_error_carries_its_status_code_and_a_default_message(error, status, code):
    raised = error()
    assert (raised.status_code, raised.code) == (status, code)
    assert raised.message == error.default_message
    assert raised.details is None


def test_message_and_details_can_be_given():
    raised = NotFoundError("Item 7 not found", details=[{"field": "id"}])
    assert str(raised) == "Item 7 not found"
    assert raised.details == [{"field": "id"}]
