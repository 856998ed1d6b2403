"""One pure ASGI middleware for what every request needs.

Request ID, body-size limit, rate limit, security headers, metrics and the access log in a
single layer: each extra layer (and BaseHTTPMiddleware above all) costs throughput.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core import metrics, request_id{% if cookiecutter.sentry %}, sentry, sentry_requests{% endif %}
from {{ cookiecutter.project_slug }}.core.access_log import AccessLog
from {{ cookiecutter.project_slug }}.core.client_address import (
    ClientAddress,
)
from {{ cookiecutter.project_slug }}.core.errors import (
    DRAIN_FACTOR,
    AppError,
    HeadersTooLargeError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestTimeoutError,
    error_body,
)
from {{ cookiecutter.project_slug }}.core.identity import (
    OUTCOME_KEY,
    REFRESH_NEEDED,
    Credentials,
    Outcome,
    Principal,
    Refusal,
    principal_name,
    rate_limit_key,
)
from {{ cookiecutter.project_slug }}.core.limiter import RateLimiter
from {{ cookiecutter.project_slug }}.core.logs import get_logger
from {{ cookiecutter.project_slug }}.core.ratelimit import (
    client_key,
    is_exempt,
)
from {{ cookiecutter.project_slug }}.core.security import (
    DOCS_CSP,
    security_headers,
)

Headers = list[tuple[bytes, bytes]]
# gunicorn's own limits (limit_request_fields, limit_request_field_size), which its sync
# workers enforce for Flask; uvicorn's httptools parser sets none.
MAX_HEADERS = 100
MAX_HEADER_BYTES = 8190


def _encode(headers: list[tuple[str, str]]) -> Headers:
    return [(name.lower().encode(), value.encode()) for name, value in headers]


# The ids of the span a request is served in (core/tracing.py), where requests are traced.
TraceIds = Callable[[], tuple[str, str] | None]


class ServiceMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        limiter: RateLimiter | None,
        credentials: Credentials | None = None,
        trace_ids: TraceIds | None = None,
    ) -> None:
        self.app = app
        self.trace_ids = trace_ids
        self.limiter = limiter
        self.credentials = credentials
        # A header name no request carries when nothing authenticates.
        self.credentials_header = credentials.header if credentials else b"\0"
        self.max_body = settings.max_request_bytes
        self.body_timeout = settings.request_read_timeout
        self.clients = ClientAddress(settings.trusted_proxies, settings.forwarded_hops)
        self.headers = _encode(security_headers(settings.is_production))
        self.docs_headers = _encode(security_headers(settings.is_production, DOCS_CSP))
        self.production = settings.is_production
        self.log = get_logger("access")
        self.access = AccessLog(
            settings.log_level, settings.json_logs, settings.slow_request_ms / 1000
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        metrics.arrived()
        incoming_id = content_length = forwarded_for = forwarded_proto = None
        chunked = False
        presented: bytes | None = None
        presented_twice = False
        credentials_header = self.credentials_header
        headers_too_large = len(scope["headers"]) > MAX_HEADERS
        for name, value in scope["headers"]:
            if len(value) > MAX_HEADER_BYTES:
                headers_too_large = True
            if name == b"x-request-id":
                incoming_id = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value
            elif name == b"x-forwarded-for":
                forwarded_for = value.decode("latin-1")
            elif name == b"x-forwarded-proto":
                forwarded_proto = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == credentials_header:
                presented_twice = presented is not None
                presented = value
        rid = request_id.accept_or_new(incoming_id)
        token = request_id.bind(rid)
        path: str = scope["path"]
        exempt = is_exempt(path)
        peer = scope.get("client")
        peer_host = peer[0] if peer else None
        client = self.clients.resolve(peer_host, forwarded_for)
        outcome: Outcome = None
        if presented is not None and self.credentials is not None and not exempt:
            # Two copies of one credential header: which one a proxy or a library reads is
            # anyone's guess, so neither counts.
            outcome = (
                Refusal("header_repeated")
                if presented_twice
                else await self._authenticate(self.credentials, presented)
            )
        scope[OUTCOME_KEY] = outcome
        # uvicorn's own proxy-header handling is off (core/worker.py), so that the client is
        # found one way in both frameworks; the scheme a trusted proxy reports is taken here.
        if forwarded_proto in (b"https", b"http") and self.clients.is_proxy(peer_host):
            scope["scheme"] = forwarded_proto.decode()
        extra = [
            *(self.docs_headers if path.startswith("/docs") else self.headers),
            (b"x-request-id", rid.encode()),
        ]
        status = 500
        started_response = False
        trace_ids = self.trace_ids
        traced: tuple[str, str] | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started_response, traced
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                headers = [*message.get("headers", ()), *extra]
                if trace_ids is not None:
                    # Taken while the request's span is current: the access line follows it.
                    traced = trace_ids()
                    if traced is not None:
                        headers.append((b"x-trace-id", traced[0].encode()))
                message["headers"] = headers
            await send(message)

        declared = int(content_length) if content_length and content_length.isdigit() else 0
        limiter = self.limiter
        try:
            rejection: AppError | None = None
            if headers_too_large:
                rejection = HeadersTooLargeError()
            elif declared > self.max_body:
                rejection = PayloadTooLargeError()
                if declared <= DRAIN_FACTOR * self.max_body:
                    await self._discard_body(receive, self.body_timeout)
            elif limiter is not None and not exempt:
                key = rate_limit_key(outcome, client_key(client))
                wait = (
                    limiter.retry_after_in_memory(key)
                    if limiter.in_memory
                    else await limiter.retry_after(key)
                )
                if wait is not None:
                    rejection = RateLimitedError(wait)
            if rejection is not None:
                await self._send_error(send_with_headers, rejection, rid)
            else:
                if declared or chunked:
                    receive = self._reading_body(receive, chunked)
                await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if started_response:
                raise  # nothing left to tell the client; the server closes the connection
            self.log.exception("unhandled_exception", path=path)
{%- if cookiecutter.sentry %}
            route = getattr(scope.get("route"), "path", None) or metrics.UNMATCHED_ROUTE
            sentry.capture(exc, sentry_requests.request_of(scope), f"{scope['method']} {route}")
{%- endif %}
            message = None if self.production else f"{AppError.default_message}: {exc!r}"
            await self._send_error(send_with_headers, AppError(message), rid)
        finally:
            duration = time.perf_counter() - started
            # 405: the path matched a route but the method did not; Flask knows no rule then.
            route_object = scope.get("route") if status != 405 else None
            route = getattr(route_object, "path", None) or metrics.UNMATCHED_ROUTE
            metrics.observe(scope["method"], route, status, duration)
            metrics.left()
            self.access.record(
                scope["method"],
                route,
                path,
                status,
                duration,
                client,
                exempt,
                principal_name(outcome),
                traced,
            )
            request_id.unbind(token)

    @staticmethod
    async def _authenticate(credentials: Credentials, presented: bytes) -> Principal | Refusal:
        outcome = credentials.authenticate(presented)
        if outcome is REFRESH_NEEDED and credentials.refresh is not None:
            # Blocking work (fetching an issuer's keys) runs in a thread, off the event loop.
            await asyncio.to_thread(credentials.refresh)
            outcome = credentials.authenticate(presented)
        return outcome

    @staticmethod
    async def _discard_body(receive: Receive, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):  # the refusal goes out all the same
            async with asyncio.timeout(timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request" or not message.get("more_body"):
                        return

    def _reading_body(self, receive: Receive, chunked: bool) -> Receive:
        """The receive of a request with a body: the body must arrive within
        REQUEST_READ_TIMEOUT of the headers, and a streamed one stops once past the limit.

        uvicorn itself waits for a declared body for as long as the client keeps the
        connection open. Once the body is complete, receive() waits for the client to
        disconnect, which may take as long as it likes.
        """
        received = 0
        complete = False
        deadline = asyncio.get_running_loop().time() + self.body_timeout

        async def body_receive() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                # An HTTPException passes FastAPI's body parsing unchanged.
                raise HTTPException(
                    RequestTimeoutError.status_code,
                    RequestTimeoutError.default_message,
                    headers={"Connection": "close"},
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if chunked and received > self.max_body:
                    raise HTTPException(413, PayloadTooLargeError.default_message)
                complete = not message.get("more_body", False)
            return message

        return body_receive

    async def _send_error(self, send: Send, error: AppError, rid: str) -> None:
        body = orjson.dumps(error_body(error.code, error.message, rid, error.details))
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if isinstance(error, RateLimitedError):
            headers.append((b"retry-after", str(error.retry_after).encode()))
        await send(
            {"type": "http.response.start", "status": error.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})
