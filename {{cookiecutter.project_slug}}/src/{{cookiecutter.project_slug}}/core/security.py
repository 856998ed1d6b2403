"""Response headers every answer carries, errors included, and the operator token."""

import hmac

# An API serves JSON: nothing may load from it, frame it or run in it.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI (/docs, never in production) loads its script and styles from a CDN.
DOCS_CSP = (
    "default-src 'none'; frame-ancestors 'none'; connect-src 'self'; img-src 'self' data: https:;"
    " script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;"
    " style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net"
)
HSTS = "max-age=63072000; includeSubDomains"


def security_headers(production: bool, csp: str = API_CSP) -> list[tuple[str, str]]:
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", csp),
        ("Permissions-Policy", "camera=(), geolocation=(), microphone=(), payment=(), usb=()"),
    ]
    if production:
        # Only behind TLS; browsers then refuse plain HTTP to this host for two years.
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def token_allows(authorization: str | None, token: str) -> bool:
    """Whether a request may read /metrics and /health: `Authorization: Bearer <METRICS_TOKEN>`.

    With no token set anyone may; then nginx, the ingress or the network must keep them inside.
    """
    if not token:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Compared in constant time, so the answer's timing says nothing about the token.
    return hmac.compare_digest(given.strip().encode(), token.encode())
