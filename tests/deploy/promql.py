"""The metric contract of deploy/ (dashboard, alert rules) and small PromQL helpers for tests."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

# The names and labels monitor.runtime.metrics exports (DESIGN/issue 6 list). Scrape-time
# target labels (instance, job, service) are allowed on every series.
METRICS: dict[str, frozenset[str]] = {
    name: frozenset(labels)
    for name, labels in {
        "commwatch_build_info": ["version"],
        "commwatch_up": [],
        "commwatch_node_up": ["node", "system"],
        "commwatch_node_state": ["node", "system", "street"],
        "commwatch_node_rtt_seconds": ["node", "probe"],
        "commwatch_node_loss_ratio": ["node"],
        "commwatch_nodes": ["state"],
        "commwatch_probe_round_duration_seconds_bucket": ["probe", "le"],
        "commwatch_probe_round_duration_seconds_sum": ["probe"],
        "commwatch_probe_round_duration_seconds_count": ["probe"],
        "commwatch_probe_rounds_total": ["probe"],
        "commwatch_probe_rounds_skipped_total": ["probe", "reason"],
        "commwatch_scheduler_lag_seconds": ["probe"],
        "commwatch_state_changes_total": ["state"],
        "commwatch_config_last_reload_successful": [],
        "commwatch_config_last_reload_success_timestamp_seconds": [],
        "commwatch_store_pending_rows": [],
        "commwatch_store_errors_total": [],
        "commwatch_store_dropped_samples_total": [],
        "commwatch_snmp_requests_total": [],
        "commwatch_snmp_timeouts_total": [],
        "commwatch_snmp_auth_failures_total": [],
        "commwatch_snmp_interface_up": ["node", "interface"],
        "commwatch_snmp_traps_total": ["trap"],
        "commwatch_snmp_traps_unknown_sender_total": [],
        "commwatch_scenario": [],
        "commwatch_response_level_proposed": [],
        "commwatch_affected_systems": ["kind"],
        "commwatch_spread": [],
        "commwatch_incidents_open": [],
        "commwatch_notices_total": ["kind"],
        "commwatch_deliveries_total": ["channel", "result"],
        "commwatch_outbox_pending": [],
        "commwatch_outbox_oldest_pending_seconds": [],
        "commwatch_delivery_retries_total": ["channel"],
        "commwatch_uplink_ok": [],
    }.items()
}
# Exported by monitor.runtime.metrics beyond the list above; alert rules may use them.
EXTRA_METRICS: dict[str, frozenset[str]] = {
    "commwatch_probe_errors_total": frozenset({"probe"}),
    # dispatch.followup: 收到, escalation, call tasks, failing numbers (issue 15)
    "commwatch_escalations_open": frozenset({"phase"}),
    "commwatch_escalation_steps_total": frozenset({"outcome"}),
    "commwatch_calls_open": frozenset(),
    "commwatch_calls_overdue": frozenset(),
    "commwatch_contacts_failing": frozenset(),
    "commwatch_partial_systems": frozenset(),
    "commwatch_monitor_blind": frozenset(),
}
TARGET_LABELS = frozenset({"instance", "job", "service"})
# The Prometheus `up` series of the scrape job (alert rules only).
SCRAPE_METRICS: dict[str, frozenset[str]] = {"up": frozenset()}

KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "inf",
        "nan",
    }
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"' + r"|'(?:[^'\\]|\\.)*'")
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
_MATCHER_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])\s*(\()?")

GRAFANA_VARS = {
    "$__rate_interval": "1m",
    "$__interval": "1m",
    "$__range": "1h",
}


def grafana_to_promql(expr: str) -> str:
    """Replace Grafana's variables with values a plain PromQL parser accepts."""
    for name, value in GRAFANA_VARS.items():
        expr = expr.replace(name, value)
    return re.sub(r"\$\{?[A-Za-z_]\w*\}?", ".*", expr)  # $instance, ${system} → regex


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (identifiers that are not functions or keywords)."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _LABEL_LIST.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in KEYWORDS or re.fullmatch(r"\d+[smhdwy]", name):
            continue
        names.add(name)
    return names


def selector_labels(expr: str) -> list[tuple[str, set[str]]]:
    """(metric, label names used in its {matchers}) for every selector in `expr`."""
    text = _STRING.sub('""', expr)
    return [
        (match.group(1), set(_MATCHER_LABEL.findall(match.group(2))))
        for match in _SELECTOR.finditer(text)
    ]


def contract_problems(expr: str, allowed: Mapping[str, frozenset[str]]) -> list[str]:
    """Unknown metrics, and matchers on labels a metric does not have."""
    problems = [f"unknown metric {name}" for name in sorted(metric_names(expr) - set(allowed))]
    for name, labels in selector_labels(expr):
        if name not in allowed:
            continue
        extra = labels - allowed[name] - TARGET_LABELS
        if extra:
            problems.append(f"{name} has no label(s) {sorted(extra)}")
    return problems


def promtool_check_exprs(promtool: str, exprs: Iterable[str], directory: Path) -> None:
    """Parse every expression with promtool (as recording rules); raise with its message."""
    rules = [
        {"record": f"commwatch:check_{index}", "expr": expr} for index, expr in enumerate(exprs)
    ]
    path = directory / "exprs.rules.yml"  # JSON is YAML: no YAML library needed
    path.write_text(json.dumps({"groups": [{"name": "exprs", "rules": rules}]}), encoding="utf-8")
    done = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"promtool rejects an expression:\n{done.stdout}{done.stderr}")


def rule_exprs(text: str) -> dict[str, str]:
    """alert name → expr from a rules file written like deploy/prometheus/commwatch-rules.yml.

    Reads the two forms that file uses (`expr: …` on one line, or `expr: >-` with
    the expression on the more-indented lines below); the caller checks that every
    alert was found.
    """
    exprs: dict[str, str] = {}
    lines = text.splitlines()
    alert = ""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("- alert:"):
            alert = stripped.split(":", 1)[1].strip()
        elif stripped.startswith("expr:") and alert:
            value = stripped.split(":", 1)[1].strip()
            if value in (">-", ">", "|", "|-"):
                indent = len(line) - len(line.lstrip())
                parts = []
                for follow in lines[index + 1 :]:
                    if follow.strip() and len(follow) - len(follow.lstrip()) <= indent:
                        break
                    parts.append(follow.strip())
                value = " ".join(part for part in parts if part)
            exprs[alert] = value
    return exprs
