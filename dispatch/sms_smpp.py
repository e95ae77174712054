"""The `sms_smpp` channel: SMPP 3.4 straight to an operator's or aggregator's SMSC.

Built on our own asyncio session (`dispatch.smpp_session`, codec in
`dispatch.smpp_pdu`) rather than smpplib, whose client blocks on its socket
and whose `make_parts` can cut a surrogate pair. A message goes out as UCS-2
parts (`dispatch.smpp_text`) with one 8-bit concatenation reference per
message, counted per bind. `Delivery.gateway_id` is the SMSC's message_id of
the first part (the id `record_receipt` matches); the receipts of the parts
are joined into one per message — delivered when every part is, failed when
one fails — while the process that sent it runs (after a restart, the first
part's receipt alone decides). Receipts and inbound messages (replies such as
"收到", concatenated ones joined) go to the `EventSink`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dispatch import smpp_pdu as pdus
from dispatch.base import Delivery, Message, NotifyError
from dispatch.events import EventSink, Inbound, Receipt, log_event
from dispatch.smpp_session import SmppSession
from dispatch.smpp_text import RECEIPT_BIT, UCS2, decode_segment, encode_parts, parse_receipt

if TYPE_CHECKING:
    from monitor.config.notifiers import SmppNotifierConfig

log = logging.getLogger(__name__)

PENDING_INBOUND = 64  # concatenated replies being joined, at most
PENDING_PARTS = 10_000  # part message_ids of long messages awaiting receipts, at most


def source_numbering(config: SmppNotifierConfig) -> tuple[int, int]:
    """(TON, NPI) of source_addr: as configured, else alphanumeric (5, 0) or digits (0, 1)."""
    digits = config.source_addr.isdigit()
    ton = config.source_ton if config.source_ton is not None else (0 if digits else 5)
    npi = config.source_npi if config.source_npi is not None else (1 if digits else 0)
    return ton, npi


@dataclass
class _LongMessage:
    """The parts of one long message whose receipts are still awaited."""

    total: int
    head: str = ""  # the first part's message_id: the delivery's gateway_id
    delivered: set[str] = field(default_factory=set)
    settled: bool = False


class SmppNotifier:
    """Sends SMS over one SMPP bind; see the module docstring."""

    channel = "sms"

    def __init__(self, config: SmppNotifierConfig, on_event: EventSink | None = None) -> None:
        self.name = config.name
        self.config = config
        self.on_event = on_event or log_event
        self.session = SmppSession(config, self._on_deliver)
        self._reference = 0
        self._inbound: OrderedDict[tuple[str, int], dict[int, str]] = OrderedDict()
        self._parts: OrderedDict[str, _LongMessage] = OrderedDict()
        self.receipts: Counter[str] = Counter()  # per message, by state (for /metrics)
        self.inbound = 0

    async def send(self, message: Message) -> Delivery:
        """Submit every part; returns when the SMSC accepted all of them."""
        try:
            self._reference = (self._reference + 1) % 256
            parts, esm_class = encode_parts(message.text, self._reference)
        except ValueError as exc:
            raise NotifyError(f"SMPP: {exc}", permanent=True) from None
        ton, npi = source_numbering(self.config)
        deadline = time.monotonic() + self.config.timeout.total_seconds()
        ids: list[str] = []
        tracked = _LongMessage(len(parts)) if len(parts) > 1 else None
        for part in parts:
            sm = pdus.ShortMessage(
                source_addr=self.config.source_addr,
                destination_addr=message.address,
                short_message=part,
                esm_class=esm_class,
                data_coding=UCS2,
                registered_delivery=1 if self.config.registered_delivery else 0,
                source_ton=ton,
                source_npi=npi,
                dest_ton=self.config.dest_ton,
                dest_npi=self.config.dest_npi,
            )
            ids.append(await self.session.submit(sm, deadline))
            if tracked is not None:  # known at once: a part's receipt may come before the next
                self._remember(tracked, ids[-1])
        detail = f"{len(parts)} part(s) accepted by {self.config.host}:{self.config.port}"
        if len(ids) > 1:
            detail += f", message_ids {','.join(ids)}"
        return Delivery(datetime.now(UTC), ids[0], detail)

    def _remember(self, message: _LongMessage, part: str) -> None:
        message.head = message.head or part
        self._parts[part] = message
        while len(self._parts) > PENDING_PARTS:
            self._parts.popitem(last=False)

    def _joined(self, part: str, state: str) -> tuple[str, str] | None:
        """(gateway_id, state) for the message a part receipt belongs to, or None: wait."""
        message = self._parts.get(part)
        if message is None:
            return part, state
        if state == "pending" or message.settled:
            return None
        if state == "failed":
            message.settled = True
            return message.head, "failed"
        message.delivered.add(part)
        if len(message.delivered) < message.total:
            return None
        message.settled = True
        return message.head, "delivered"

    def _on_deliver(self, sm: pdus.ShortMessage) -> None:
        segment = decode_segment(sm.short_message, sm.esm_class, sm.data_coding)
        if sm.esm_class & RECEIPT_BIT:
            receipt = parse_receipt(segment.text, sm.tlvs)
            detail = f"stat:{receipt.stat} err:{receipt.error}".strip()
            joined = self._joined(receipt.message_id, receipt.state)
            if joined is not None:
                self.receipts[joined[1]] += 1
                self.on_event(Receipt(self.name, joined[0], joined[1], detail))
            return
        if segment.concat is None:
            self.inbound += 1
            self.on_event(Inbound(self.name, sm.source_addr, segment.text))
            return
        reference, total, seq = segment.concat
        key = (sm.source_addr, reference)
        parts = self._inbound.setdefault(key, {})
        parts[seq] = segment.text
        while len(self._inbound) > PENDING_INBOUND:
            self._inbound.popitem(last=False)
        if len(parts) == total:
            del self._inbound[key]
            text = "".join(parts[i] for i in sorted(parts))
            self.inbound += 1
            self.on_event(Inbound(self.name, sm.source_addr, text))

    async def close(self) -> None:
        """Unbind and close the connection."""
        await self.session.close()
