"""Processes a test module starts as soon as the run's tests are collected.

Each of them spends seconds importing the service before it does what its test looks at.
Started when collection is done, they do that beside the tests that run before theirs instead
of holding up their own. A module opts in with `start_early(config)`; its fixtures take what
that returned from `started(request)`.
"""

from typing import Any

import pytest

STARTED = pytest.StashKey[dict[str, Any]]()


def pytest_collection_finish(session: pytest.Session) -> None:
    started = session.stash.setdefault(STARTED, {})
    if session.config.option.collectonly:
        return
    functions = [item for item in session.items if isinstance(item, pytest.Function)]
    modules = dict.fromkeys(item.module for item in functions)
    for module in modules:
        start = getattr(module, "start_early", None)
        if start is not None:
            started[module.__name__] = start(session.config)


def started(request: pytest.FixtureRequest) -> Any:
    """What the requesting module's start_early returned at the start of the run."""
    return request.session.stash[STARTED][request.module.__name__]
