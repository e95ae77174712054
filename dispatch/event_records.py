"""From gateway events to the records: an EventSink that writes off the event loop.

Channels call their sink on the event loop (SMPP's reader, a voice result
poll). Recording is database work, so `EventRecorder` hands each event to a
worker thread. A receipt can outrun the outbox: a fast SMSC reports before
the dispatcher has stored the gateway id of the message it just accepted, so
a receipt that matched no delivery is tried again after `retry_delays`
(bounded), then dropped with a log line.

    Dispatcher(config, engine, on_event=record_events(engine, incidents))

`record_events` joins it to the delivery states and acknowledgements:
receipts → `dispatch.receipts.record_receipt`, replies → `dispatch.acks.record_reply`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from dispatch.acks import record_reply
from dispatch.events import Event, Inbound, Receipt
from dispatch.receipts import record_receipt
from monitor.incidents.engine import IncidentEngine

log = logging.getLogger(__name__)

RETRY_DELAYS = (1.0, 5.0, 30.0)


class EventRecorder:
    """An EventSink: receipts and replies recorded in worker threads, late receipts retried."""

    def __init__(
        self,
        on_receipt: Callable[[Receipt], bool],
        on_inbound: Callable[[Inbound], object],
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.on_receipt = on_receipt
        self.on_inbound = on_inbound
        self.retry_delays = tuple(retry_delays)
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, event: Event) -> None:
        """Take an event (on the event loop); recording happens in the background."""
        task = asyncio.get_running_loop().create_task(self._record(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record(self, event: Event) -> None:
        try:
            if isinstance(event, Inbound):
                await asyncio.to_thread(self.on_inbound, event)
                return
            for delay in (*self.retry_delays, None):
                if await asyncio.to_thread(self.on_receipt, event):
                    return
                if delay is None:
                    break
                await asyncio.sleep(delay)
            log.warning(
                "receipt for no known delivery",
                extra={"fields": {"notifier": event.notifier, "gateway_id": event.gateway_id}},
            )
        except Exception:  # a recording failure must not kill the channel's reader
            log.exception("recording a gateway event failed")

    async def close(self) -> None:
        """Wait (bounded by the callers' own timeouts) for recordings in flight; cancel retries."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def record_events(engine: Engine, incidents: IncidentEngine) -> EventRecorder:
    """The daemon's sink: receipts move delivery states, replies such as 收到 acknowledge."""
    return EventRecorder(
        lambda r: record_receipt(engine, r.gateway_id, r.state, r.detail) is not None,
        lambda i: record_reply(incidents, i.sender, i.text),
    )
