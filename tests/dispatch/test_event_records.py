"""EventRecorder: events recorded off the loop; a receipt that outran the outbox is retried."""

from __future__ import annotations

import threading

from dispatch.event_records import EventRecorder
from dispatch.events import Inbound, Receipt
from tests.dispatch.fakes import eventually


async def test_a_late_receipt_is_retried_until_its_delivery_exists() -> None:
    known: set[str] = set()
    seen: list[tuple[str, str]] = []
    threads: set[str] = set()

    def on_receipt(receipt: Receipt) -> bool:
        threads.add(threading.current_thread().name)
        seen.append((receipt.gateway_id, receipt.state))
        return receipt.gateway_id in known

    replies: list[Inbound] = []
    recorder = EventRecorder(on_receipt, replies.append, retry_delays=(0.05, 0.05, 0.05))
    recorder(Receipt("smpp", "7001", "delivered"))
    await eventually(lambda: len(seen) == 1, within=2)
    known.add("7001")  # the dispatcher stored the gateway id meanwhile
    await eventually(lambda: len(seen) == 2, within=2)
    recorder(Inbound("smpp", "13800000010", "收到"))
    await eventually(lambda: bool(replies), within=2)
    await recorder.close()
    assert seen == [("7001", "delivered"), ("7001", "delivered")]
    assert replies == [Inbound("smpp", "13800000010", "收到")]
    assert threading.main_thread().name not in threads


async def test_an_unknown_receipt_is_given_up_after_the_retries() -> None:
    calls: list[str] = []
    recorder = EventRecorder(
        lambda r: calls.append(r.gateway_id) is not None, lambda _i: None, (0.01, 0.01)
    )
    recorder(Receipt("smpp", "nope", "failed"))
    await eventually(lambda: len(calls) == 3, within=2)
    await recorder.close()
    assert calls == ["nope"] * 3
