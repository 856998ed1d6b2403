"""A local OIDC issuer for the tests: key pairs, its discovery document and key set served over
real HTTP on 127.0.0.1, and tokens signed with its keys, so the service's own fetching and
caching code runs."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "my-service"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class Issuer:
    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, PrivateKey]] = {}
        self.published: list[str] = []
        self.jwks_fetches = 0
        self.down = False
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if issuer.down:
                    self.send_error(503)
                    return
                if self.path == "/.well-known/openid-configuration":
                    body: Any = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks"}
                elif self.path == "/jwks":
                    issuer.jwks_fetches += 1
                    body = issuer.jwks()
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                return  # the tests read the service's logs, not these

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.kid = self.add_key()

    def add_key(self, algorithm: str = "RS256", publish: bool = True) -> str:
        kid = uuid.uuid4().hex
        key: PrivateKey = (
            ec.generate_private_key(ec.SECP256R1())
            if algorithm == "ES256"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        self.keys[kid] = (algorithm, key)
        if publish:
            self.published.append(kid)
        return kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.published:
            algorithm, key = self.keys[kid]
            public = key.public_key()
            jwk = (
                ECAlgorithm.to_jwk(public, as_dict=True)
                if isinstance(public, ec.EllipticCurvePublicKey)
                else RSAAlgorithm.to_jwk(public, as_dict=True)
            )
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": algorithm})
        return {"keys": keys}

    def public_pem(self, kid: str) -> bytes:
        return (
            self.keys[kid][1]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "tests",
            "iat": now,
            "exp": now + 3600,
            "scope": "items:read items:write",
        }
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not None}

    def token(
        self, kid: str | None = None, headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        kid = kid or self.kid
        algorithm, key = self.keys[kid]
        return jwt.encode(
            self.claims(**claims),
            key,
            algorithm=algorithm,
            headers={"kid": kid, **(headers or {})},
        )

    def close(self) -> None:
        self.server.shutdown()
