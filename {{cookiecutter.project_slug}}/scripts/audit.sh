{%- import "services.jinja" as services with context -%}
#!/bin/sh
# Audit every package uv.lock pins (all dependency groups) for known vulnerabilities with
# pip-audit, as `make audit` and CI run it. It fails on a finding that audit-waivers.txt does
# not waive, and on a waiver that gives no reason. Arguments go on to pip-audit (--dry-run,
# --format=json, ...).
set -eu
cd "$(dirname "$0")/.."

# One waiver a line: the advisory's ID, then why it is waived (comments and blank lines skip).
ignores=$(awk '
    /^[[:space:]]*(#|$)/ { next }
    NF < 2 { printf "%s:%d: %s is waived without a reason\n", FILENAME, FNR, $1 > "/dev/stderr"; bad = 1; next }
    { printf " --ignore-vuln %s", $1 }
    END { exit bad }
' audit-waivers.txt)

requirements=$(mktemp)
trap 'rm -f "$requirements"' EXIT
# Exact versions with their hashes, so pip-audit checks what uv.lock pins without resolving.
uv export --locked --all-groups --no-emit-project --quiet --output-file "$requirements"
# $ignores is split on purpose: one word per flag.
# shellcheck disable=SC2086
uvx {{ services.pip_audit }} --strict --disable-pip --require-hashes --progress-spinner off \
    --requirement "$requirements" $ignores "$@"
