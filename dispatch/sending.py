"""Sending: claim due deliveries per channel, send each in its own task, record the outcome.

Used by `dispatch.dispatcher.Dispatcher`, which owns the loop and sets `config`
and `notifiers` (again on a reload). A send runs under the notifier's timeout;
"sent" is recorded only after the gateway accepted (retried against a busy
database: a resend is worse than a wait); a failure is retried with backoff
until the retry horizon, or final — and a final one opens the recipient's next
channel, which the HQ office duty is told of (`dispatch.fallthrough`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dispatch import policy
from dispatch.base import Message, Notifier, NotifyError
from dispatch.outbox import Claimed, Outbox
from dispatch.registry import Notifiers
from dispatch.stats import DispatchStats
from monitor.config import Config

log = logging.getLogger("dispatch.dispatcher")  # the operators' log name, as before the split

CHANNELS = ("email", "sms", "robot", "voice", "fax")
LEASE_MARGIN = timedelta(seconds=60)
RECORD_ATTEMPTS = 5  # tries to record "sent" before giving up to the lease
RECORD_PAUSE = 0.5  # seconds, growing linearly between those tries


class Sender:
    """The sending half of the dispatcher; see the module docstring."""

    def __init__(
        self,
        config: Config,
        outbox: Outbox,
        stats: DispatchStats,
        clock: Callable[[], datetime],
        rng: random.Random,
        wake: Callable[[], None],
    ) -> None:
        self.config = config
        self.notifiers: Notifiers
        self.outbox = outbox
        self.stats = stats
        self.clock = clock
        self.rng = rng
        self.wake = wake  # the dispatcher's loop: a slot is free again
        self.busy = dict.fromkeys(CHANNELS, 0)
        self.tasks: set[asyncio.Task[None]] = set()

    async def claim_and_send(self, channel: str, now: datetime) -> None:
        free = self.config.daemon.dispatch.concurrency - self.busy[channel]
        notifier = self.notifiers.for_channel(channel)
        lease = self.notifiers.config_of(notifier).timeout + LEASE_MARGIN
        claimed = await asyncio.to_thread(self.outbox.claim, now, channel, free, lease)
        loop = asyncio.get_running_loop()
        for item in claimed:
            self.busy[channel] += 1
            chosen = self.notifiers.by_name.get(item.notifier or "", notifier)  # fate-sharing
            task = loop.create_task(self._deliver(item, chosen))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _deliver(self, item: Claimed, notifier: Notifier) -> None:
        """Send one delivery and record the outcome; never raises (a task nobody awaits)."""
        try:
            await self._attempt(item, notifier)
        except Exception:  # recording failed (database down): the lease brings it back
            self.stats.errors += 1
            log.exception(
                "delivery outcome not recorded; it is retried when its lease ends",
                extra={"fields": {"delivery": item.id, "channel": item.channel}},
            )
        finally:
            self.busy[item.channel] -= 1
            self.wake()

    async def _attempt(self, item: Claimed, notifier: Notifier) -> None:
        settings = self.notifiers.config_of(notifier)
        message = Message(
            item.notice_id, item.address, item.subject, item.body, item.html, item.key
        )
        try:
            async with asyncio.timeout(settings.timeout.total_seconds() + 5):
                delivery = await notifier.send(message)
        except NotifyError as exc:
            reason = policy.failure_reason(str(exc), exc.permanent)
            await self._failed(item, notifier.name, str(exc), exc.permanent, reason)
            return
        except TimeoutError:
            await self._failed(item, notifier.name, "timed out", False, "timeout")
            return
        except Exception as exc:  # a notifier bug must not kill the outbox
            log.exception("notifier raised", extra={"fields": {"notifier": notifier.name}})
            await self._failed(item, notifier.name, repr(exc), False, "internal")
            return
        self.stats.on_sent(item.channel)
        await self._record_sent(item, notifier.name, delivery.gateway_id, delivery.detail)
        fields = {"delivery": item.id, "channel": item.channel, "notifier": notifier.name}
        log.info("notice sent", extra={"fields": fields})
        released = await asyncio.to_thread(self.outbox.release_backoff, item.channel, self.clock())
        if released:
            log.info(
                "channel answers again: queued deliveries go now",
                extra={"fields": {"channel": item.channel, "released": released}},
            )

    async def _record_sent(
        self, item: Claimed, notifier: str, gateway_id: str | None, detail: str
    ) -> None:
        """Record a gateway's acceptance, retrying the database (a resend is worse than a wait)."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await asyncio.to_thread(
                    self.outbox.record_sent, item.id, self.clock(), notifier, gateway_id, detail
                )
                return
            except Exception:
                if attempt + 1 == RECORD_ATTEMPTS:
                    raise
                await asyncio.sleep(RECORD_PAUSE * (attempt + 1))

    async def _failed(
        self, item: Claimed, notifier: str, error: str, permanent: bool, reason: str
    ) -> None:
        now = self.clock()
        fields: dict[str, Any] = {
            "delivery": item.id,
            "channel": item.channel,
            "attempt": item.attempts,
            "reason": reason,
            "error": error,
        }
        settings = self.config.daemon.dispatch
        if policy.should_retry(permanent, item.created_at, now, settings.retry_horizon):
            delay = policy.backoff(item.attempts, settings.retry_base, settings.retry_max, self.rng)
            await asyncio.to_thread(
                self.outbox.record_failure, item.id, now, notifier, error, False, now + delay
            )
            self.stats.on_retry(item.channel, delay.total_seconds(), reason)
            log.warning(
                "delivery failed; will retry",
                extra={"fields": {**fields, "in_s": round(delay.total_seconds(), 1)}},
            )
            return
        if not permanent:
            reason = fields["reason"] = "expired"
        opened = await asyncio.to_thread(
            self.outbox.record_failure,
            item.id,
            now,
            notifier,
            error,
            permanent,
            None,
            settings.coalesce_window,
        )
        self.stats.on_failed(item.channel, permanent, opened, reason)
        log.error("delivery failed for good", extra={"fields": {**fields, "fallbacks": opened}})
