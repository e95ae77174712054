"""Dispatch figures, kept by the dispatcher and exported by `metric_families` at scrape time.

Counters count since the process started; gauges are refreshed every
dispatcher cycle from the outbox tables (so they survive restarts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import Metric

from monitor.runtime.metrics import counter, gauge


@dataclass
class DispatchStats:
    """What the dispatcher did; read these, never write them from outside."""

    # gauges (from the outbox tables)
    queued: int = 0  # deliveries pending or being sent
    oldest_pending_age_seconds: float = 0.0
    # counters
    notices: int = 0  # notices accepted into the outbox
    coalesced: int = 0  # notices merged into a later one (no storm)
    routed: int = 0  # notices routed into deliveries
    deliveries_created: int = 0
    sent: int = 0
    failed_permanent: int = 0  # refused for good (bad address, auth): not retried
    failed_exhausted: int = 0  # transient failures until the retry horizon
    retries: int = 0  # transient failures scheduled for another attempt
    fallbacks: int = 0  # next-channel deliveries opened after a failure
    errors: int = 0  # dispatcher cycles that failed (database down, …)
    last_backoff_seconds: float = 0.0
    sent_by_channel: Counter[str] = field(default_factory=Counter)
    permanent_by_channel: Counter[str] = field(default_factory=Counter)
    exhausted_by_channel: Counter[str] = field(default_factory=Counter)
    retries_by_channel: Counter[str] = field(default_factory=Counter)
    failures_by_reason: Counter[tuple[str, str]] = field(default_factory=Counter)

    def on_sent(self, channel: str) -> None:
        """A delivery was accepted by its gateway."""
        self.sent += 1
        self.sent_by_channel[channel] += 1

    def on_retry(self, channel: str, delay_seconds: float, reason: str = "rejected") -> None:
        """A transient failure, retried after `delay_seconds`."""
        self.failures_by_reason[(channel, reason)] += 1
        self.retries += 1
        self.retries_by_channel[channel] += 1
        self.last_backoff_seconds = delay_seconds

    def on_failed(
        self, channel: str, permanent: bool, fallbacks: int, reason: str = "permanent"
    ) -> None:
        """A delivery failed for good; `fallbacks` next-channel deliveries were opened."""
        self.failures_by_reason[(channel, reason)] += 1
        if permanent:
            self.failed_permanent += 1
            self.permanent_by_channel[channel] += 1
        else:
            self.failed_exhausted += 1
            self.exhausted_by_channel[channel] += 1
        self.fallbacks += fallbacks

    def metric_families(self) -> Iterator[Metric]:
        """Every figure above as a metric family."""
        yield gauge("commwatch_outbox_pending", "Deliveries waiting or being sent", self.queued)
        yield gauge(
            "commwatch_outbox_oldest_pending_seconds",
            "Age of the oldest undelivered notice",
            self.oldest_pending_age_seconds,
        )
        for name, doc, value in (
            ("notices", "Notices accepted into the outbox", self.notices),
            ("notices_coalesced", "Notices merged into a later one (no storm)", self.coalesced),
            ("notices_routed", "Notices routed into deliveries", self.routed),
            ("deliveries_created", "Deliveries created by routing", self.deliveries_created),
            (
                "delivery_fallbacks",
                "Next-channel deliveries opened after a failure",
                self.fallbacks,
            ),
            (
                "dispatch_cycle_errors",
                "Dispatcher cycles that failed (database down, …)",
                self.errors,
            ),
        ):
            yield counter(f"commwatch_{name}", doc, {(): value}, [])
        results: dict[tuple[str, ...], float] = {}
        for result, by_channel in (
            ("sent", self.sent_by_channel),
            ("permanent", self.permanent_by_channel),
            ("exhausted", self.exhausted_by_channel),
        ):
            results.update({(channel, result): n for channel, n in by_channel.items()})
        yield counter(
            "commwatch_deliveries",
            "Deliveries by channel and result: sent (gateway accepted), permanent (refused for"
            " good), exhausted (transient failures until the retry horizon)",
            results,
            ["channel", "result"],
        )
        yield counter(
            "commwatch_delivery_retries",
            "Transient delivery failures retried",
            {(c,): n for c, n in self.retries_by_channel.items()},
            ["channel"],
        )
        yield counter(
            "commwatch_delivery_failures",
            "Failed delivery attempts by channel and reason: timeout, connection (refused,"
            " unreachable), rejected (a transient gateway answer), internal, permanent,"
            " expired (past the retry horizon)",
            {key: n for key, n in self.failures_by_reason.items()},
            ["channel", "reason"],
        )
