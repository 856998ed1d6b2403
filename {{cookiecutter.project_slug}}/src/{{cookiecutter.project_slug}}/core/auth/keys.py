"""API keys: clients send `X-API-Key: <key>`; the service keeps only each key's SHA-256.

`API_KEYS` holds one entry per key, comma-separated: `name:scopes:sha256-hex`, the scopes
separated by spaces, e.g. `deploy-bot:items:read items:write:9f86d0...`. Several entries may
hold the same scopes, so a key is rotated by adding the new one, moving the clients over, and
then removing the old one.

A new key, and the entry to paste into API_KEYS:

    python -m {{ cookiecutter.project_slug }}.core.auth.keys \
        new deploy-bot --scopes items:read items:write
"""

import argparse
import hashlib
import hmac
import re
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from {{ cookiecutter.project_slug }}.core.identity import (
    Credentials,
    Principal,
    Refusal,
)

if TYPE_CHECKING:
    from {{ cookiecutter.project_slug }}.config import Settings

HEADER = b"x-api-key"
MODULE = "{{ cookiecutter.project_slug }}.core.auth.keys"
KEY_COMMAND = f"python -m {MODULE} new NAME --scopes items:read items:write"
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
SCOPE = re.compile(r"[A-Za-z0-9:._-]{1,64}")
DIGEST = re.compile(r"[0-9a-f]{64}")
# Generated keys are 43 characters; anything much longer is not one, and is not hashed.
MAX_KEY_BYTES = 256
KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class KeyEntry:
    principal: Principal
    digest: bytes


def parse_entry(entry: str) -> KeyEntry:
    """One `name:scopes:sha256-hex` entry; a ValueError names what is wrong (the name, never
    the digest)."""
    name, _, rest = entry.strip().partition(":")
    scopes_text, _, digest = rest.rpartition(":")
    if not NAME.fullmatch(name):
        raise ValueError(
            "API_KEYS entries are name:scopes:sha256-hex, the name up to 64 letters, digits, "
            "'.', '_' or '-'"
        )
    scopes = scopes_text.split()
    if not scopes or not all(SCOPE.fullmatch(scope) for scope in scopes):
        raise ValueError(f"API_KEYS entry {name!r} needs scopes separated by spaces")
    if not DIGEST.fullmatch(digest):
        raise ValueError(
            f"API_KEYS entry {name!r} must end with the key's SHA-256 in 64 lower-case hex "
            "digits (the key itself is never stored)"
        )
    return KeyEntry(Principal(name, frozenset(scopes)), bytes.fromhex(digest))


def parse_entries(entries: Sequence[str]) -> list[KeyEntry]:
    parsed = [parse_entry(entry) for entry in entries]
    names = [entry.principal.name for entry in parsed]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"API_KEYS names {name!r} twice; give each key its own name")
    return parsed


class ApiKeys:
    def __init__(self, entries: Sequence[KeyEntry]) -> None:
        self.entries = list(entries)

    def authenticate(self, presented: bytes) -> Principal | Refusal:
        if not presented or len(presented) > MAX_KEY_BYTES:
            return Refusal("malformed_key")
        digest = hashlib.sha256(presented).digest()
        found = None
        # Every entry is compared, in constant time, so the time taken says nothing about
        # which entry came close.
        for entry in self.entries:
            if hmac.compare_digest(digest, entry.digest):
                found = entry.principal
        return found if found is not None else Refusal("unknown_key")


def credentials(settings: "Settings") -> Credentials:
    return Credentials(HEADER, ApiKeys(parse_entries(settings.api_keys)).authenticate)


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def entry_for(name: str, scopes: Sequence[str], key: str) -> str:
    return f"{name}:{' '.join(scopes)}:{hashlib.sha256(key.encode()).hexdigest()}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {MODULE}",
        description="Make an API key: give the key to its client, add the entry to API_KEYS.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="make a new key")
    new.add_argument("name", help="who the key is for; logged as the request's principal")
    new.add_argument("--scopes", nargs="+", required=True, help="e.g. items:read items:write")
    args = parser.parse_args(argv)
    key = new_key()
    entry = entry_for(args.name, args.scopes, key)
    try:
        parse_entry(entry)
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write(f"key (give it to the client; it is not stored anywhere): {key}\n")
    sys.stdout.write(f"entry (add it to API_KEYS, comma-separated from the others): {entry}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
