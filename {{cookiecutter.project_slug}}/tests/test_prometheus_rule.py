"""deploy/kubernetes/monitoring/prometheusrule.yaml holds the rules of
deploy/prometheus/alerts.yaml, unchanged: an edit to one must be made to the other."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rules_of(path: Path, after: str, indent: str) -> list[str]:
    """The lines from `after` on, without their indent and comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(after) + 1
    return [line.removeprefix(indent) for line in lines[start:] if not line.startswith("#")]


def test_the_prometheus_rule_holds_the_rules_file():
    source = ROOT / "deploy" / "prometheus" / "alerts.yaml"
    rule = ROOT / "deploy" / "kubernetes" / "monitoring" / "prometheusrule.yaml"
    shipped = rules_of(rule, "spec:", "  ")
    assert shipped[0] == "groups:"
    assert shipped == ["groups:", *rules_of(source, "groups:", "")]
