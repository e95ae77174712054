"""SMPP figures per notifier, exported at scrape time (one family per name for all binds)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric

from dispatch.sms_smpp import SmppNotifier
from monitor.runtime.metrics import counter


def smpp_families(notifiers: Sequence[SmppNotifier]) -> Iterator[Metric]:
    """Window, bind, throttling, receipts and replies of every SMPP notifier."""
    if not notifiers:
        return
    window = GaugeMetricFamily(
        "commwatch_smpp_window",
        "submit_sm allowed in flight now (halved on throttling)",
        labels=["notifier"],
    )
    bound = GaugeMetricFamily("commwatch_smpp_bound", "1 while the bind is up", labels=["notifier"])
    for notifier in notifiers:
        window.add_metric([notifier.name], notifier.session.window.size)
        bound.add_metric([notifier.name], 1.0 if notifier.session.bound else 0.0)
    yield window
    yield bound
    yield counter(
        "commwatch_smpp_binds",
        "Successful binds (the first and every reconnect)",
        {(n.name,): n.session.binds for n in notifiers},
        ["notifier"],
    )
    yield counter(
        "commwatch_smpp_throttled",
        "submit_sm answered ESME_RTHROTTLED",
        {(n.name,): n.session.window.throttles for n in notifiers},
        ["notifier"],
    )
    receipts: dict[tuple[str, ...], float] = {
        (n.name, state): count for n in notifiers for state, count in n.receipts.items()
    }
    yield counter(
        "commwatch_smpp_receipts",
        "Delivery receipts per message, by state (delivered, failed, pending)",
        receipts,
        ["notifier", "state"],
    )
    yield counter(
        "commwatch_smpp_inbound",
        "Messages received from phones (replies)",
        {(n.name,): n.inbound for n in notifiers},
        ["notifier"],
    )
