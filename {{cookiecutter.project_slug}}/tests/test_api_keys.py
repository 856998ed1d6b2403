"""API keys: the API_KEYS entries, the key command, and comparing digests."""

import hashlib

import pytest
from pydantic import ValidationError

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.core.auth.keys import (
    MAX_KEY_BYTES,
    ApiKeys,
    main,
    parse_entries,
    parse_entry,
)
from {{ cookiecutter.project_slug }}.core.identity import (
    Principal,
    Refusal,
)

from .settings import API_KEY, SECRET, key_entry

DIGEST = hashlib.sha256(b"k").hexdigest()


def test_an_entry_holds_a_name_scopes_and_a_digest():
    entry = parse_entry(f" deploy-bot:items:read items:write:{DIGEST} ")
    assert entry.principal == Principal("deploy-bot", frozenset({"items:read", "items:write"}))
    assert entry.digest == bytes.fromhex(DIGEST)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (f"bad name:items:read:{DIGEST}", "the name"),
        (f":items:read:{DIGEST}", "the name"),
        (f"bot::{DIGEST}", "needs scopes"),
        (f"bot:items:read{DIGEST}", "SHA-256"),
        ("bot:items:read:not-hex", "SHA-256"),
        (f"bot:items:read:{DIGEST.upper()}", "SHA-256"),
        (f"bot:items:read:{DIGEST[:-1]}", "SHA-256"),
        (f"bot:it$ems:{DIGEST}", "needs scopes"),
    ],
)
def test_malformed_entries_are_refused(entry, message):
    with pytest.raises(ValueError, match=message):
        parse_entry(entry)


def test_a_name_may_be_used_once():
    with pytest.raises(ValueError, match="twice"):
        parse_entries([f"bot:a:{DIGEST}", f"bot:b:{DIGEST}"])


def test_settings_refuse_bad_entries_without_showing_them():
    with pytest.raises(ValidationError, match="API_KEYS entry 'bot'") as refused:
        Settings(api_keys=f"bot:items:read:{DIGEST[:10]}")
    assert DIGEST[:10] not in str(refused.value)


def test_production_needs_a_key():
    with pytest.raises(ValidationError, match="API_KEYS must hold at least one entry"):
        Settings(environment="production", secret_key=SECRET, api_keys="")


def test_settings_read_comma_separated_entries():
    entries = [key_entry("a", "items:read", "ka"), key_entry("b", "items:read items:write", "kb")]
    assert Settings(api_keys=", ".join(entries)).api_keys == entries


def test_several_keys_are_valid_at_once_for_rotation():
    keys = ApiKeys(parse_entries([key_entry("old", "s", "old-key"), key_entry("new", "s", "new")]))
    assert keys.authenticate(b"old-key") == Principal("old", frozenset({"s"}))
    assert keys.authenticate(b"new") == Principal("new", frozenset({"s"}))
    assert keys.authenticate(b"other") == Refusal("unknown_key")
    assert keys.authenticate(b"") == Refusal("malformed_key")
    assert keys.authenticate(b"k" * (MAX_KEY_BYTES + 1)) == Refusal("malformed_key")


def test_the_key_command_prints_a_key_and_its_entry(capsys):
    assert main(["new", "deploy-bot", "--scopes", "items:read", "items:write"]) == 0
    lines = capsys.readouterr().out.splitlines()
    key = lines[0].rsplit(" ", 1)[1]
    entry = lines[1].rsplit(": ", 1)[1]
    assert len(key) >= 43 and key != API_KEY
    parsed = ApiKeys(parse_entries([entry]))
    assert parsed.authenticate(key.encode()) == Principal(
        "deploy-bot", frozenset({"items:read", "items:write"})
    )


def test_the_key_command_refuses_a_bad_name(capsys):
    with pytest.raises(SystemExit):
        main(["new", "bad name", "--scopes", "items:read"])
    assert "name" in capsys.readouterr().err
