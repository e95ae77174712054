"""One SMPP bind on asyncio streams: connect, bind, window, rate, enquire_link, reconnect.

- The bind is made on the first submit and kept. A transceiver bind is kept up
  by itself (reconnecting with backoff up to `reconnect_max`), because receipts
  and replies arrive on it; a transmitter bind is re-made on the next submit.
- `enquire_link` every `enquire_link`; no answer within `timeout` drops the
  link (and so reconnects).
- Window: at most `window` submit_sm await their response. ESME_RTHROTTLED
  halves the window and pauses all submits (`throttle_pause`, doubling while
  throttles continue); each accepted submit widens it by one again.
- Rate: submits are spaced to at most `rate` per second.
- deliver_sm (receipts and inbound messages) are answered at once and handed
  to `on_deliver`.
Nothing here blocks the event loop; the password is never in an error or log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from dispatch import smpp_pdu as pdus
from dispatch.base import NotifyError
from dispatch.smpp_status import RTHROTTLED, describe, is_permanent

if TYPE_CHECKING:
    from monitor.config.notifiers import SmppNotifierConfig

log = logging.getLogger(__name__)

DeliverHandler = Callable[[pdus.ShortMessage], None]


class Window:
    """An adjustable window of outstanding requests with a shared pause (AIMD)."""

    def __init__(self, size: int) -> None:
        self.max = size
        self.size = size
        self.in_flight = 0
        self.paused_until = 0.0
        self.throttles = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        """Wait for a free slot and for any throttle pause to end."""
        async with self._changed:
            while True:
                pause = self.paused_until - time.monotonic()
                if pause > 0:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(pause):
                            await self._changed.wait()
                    continue
                if self.in_flight < self.size:
                    self.in_flight += 1
                    return
                try:
                    await self._changed.wait()
                except asyncio.CancelledError:
                    self._changed.notify(1)  # a wake-up meant for us goes to the next waiter
                    raise

    async def release(self, *, throttled: bool, pause: float = 0.0) -> None:
        """Free a slot; a throttle halves the window and pauses every sender."""
        async with self._changed:
            self.in_flight -= 1
            if throttled:
                self.throttles += 1
                self.size = max(1, self.size // 2)
                self.paused_until = max(self.paused_until, time.monotonic() + pause)
            else:
                self.size = min(self.max, self.size + 1)
            # wake only as many as may go (waking every waiter would cost O(waiters) per submit);
            # paused waiters wake by their own timeout
            self._changed.notify(max(self.size - self.in_flight, 0))


class _Link:
    """An open, bound connection with its reader and its answers awaited."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.pending: dict[int, asyncio.Future[pdus.Pdu]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.closed = asyncio.Event()

    def fail_pending(self, reason: str) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_exception(NotifyError(reason))
        self.pending.clear()


class SmppSession:
    """The ESME side of one SMPP account; see the module docstring."""

    def __init__(self, config: SmppNotifierConfig, on_deliver: DeliverHandler) -> None:
        self.config = config
        self.on_deliver = on_deliver
        self.window = Window(config.window)
        self._sequence = 0
        self._link: _Link | None = None
        self._connecting = asyncio.Lock()
        self._rate_lock = asyncio.Lock()
        self._next_slot = 0.0
        self._closing = False
        self._reconnect: asyncio.Task[None] | None = None
        self.binds = 0

    @property
    def bound(self) -> bool:
        """True while a bind is up."""
        return self._link is not None and not self._link.closed.is_set()

    @property
    def where(self) -> str:
        """host:port as system_id, for errors (never the password)."""
        return f"{self.config.host}:{self.config.port} as {self.config.system_id!r}"

    def next_sequence(self) -> int:
        """Sequence numbers 1 … 0x7FFFFFFF, wrapping."""
        self._sequence = self._sequence % 0x7FFFFFFF + 1
        return self._sequence

    # -- submitting -----------------------------------------------------------------

    async def submit(self, sm: pdus.ShortMessage, deadline: float) -> str:
        """Submit one part; retried after throttling until `deadline` (monotonic)."""
        pause = self.config.throttle_pause.total_seconds()
        while True:
            await self.window.acquire()
            throttled = False
            try:
                link = await self._ready()
                await self._pace()
                answer = await self._request(link, pdus.submit_sm(self.next_sequence(), sm))
                throttled = answer.status == RTHROTTLED
            finally:
                await self.window.release(throttled=throttled, pause=pause)
            if answer.status == 0:
                return pdus.message_id_of(answer)
            if not throttled:
                raise NotifyError(
                    f"SMPP submit_sm to {sm.destination_addr} refused: {describe(answer.status)}",
                    permanent=is_permanent(answer.status),
                )
            log.warning(
                "SMPP throttled; window narrowed",
                extra={"fields": {"window": self.window.size, "pause_s": pause}},
            )
            if time.monotonic() + pause > deadline:
                raise NotifyError(f"SMPP throttled by {self.where}: {describe(RTHROTTLED)}")
            pause = min(pause * 2, 60.0)

    async def _pace(self) -> None:
        async with self._rate_lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1.0 / self.config.rate
        if wait > 0:
            await asyncio.sleep(wait)

    async def _request(self, link: _Link, pdu: pdus.Pdu) -> pdus.Pdu:
        future: asyncio.Future[pdus.Pdu] = asyncio.get_running_loop().create_future()
        link.pending[pdu.sequence] = future
        try:
            link.writer.write(pdu.encode())
            await link.writer.drain()
            async with asyncio.timeout(self.config.timeout.total_seconds()):
                return await future
        except TimeoutError:
            name = pdus.command_name(pdu.command_id)
            raise NotifyError(f"SMPP: no {name}_resp from {self.where}") from None
        except (ConnectionError, OSError) as exc:
            raise NotifyError(f"SMPP connection to {self.where} lost: {exc}") from None
        finally:
            link.pending.pop(pdu.sequence, None)

    # -- the link ---------------------------------------------------------------------

    async def _ready(self) -> _Link:
        if self._link is not None and not self._link.closed.is_set():
            return self._link
        async with self._connecting:
            if self._link is not None and not self._link.closed.is_set():
                return self._link
            self._link = await self._open()
            return self._link

    async def _open(self) -> _Link:
        config = self.config
        context = ssl.create_default_context(cafile=config.ca_file) if config.tls else None
        try:
            async with asyncio.timeout(config.timeout.total_seconds()):
                reader, writer = await asyncio.open_connection(
                    config.host, config.port, ssl=context
                )
        except TimeoutError:
            raise NotifyError(f"SMPP: no connection to {self.where} in time") from None
        except ssl.SSLError as exc:
            raise NotifyError(f"SMPP TLS with {self.where}: {exc}", permanent=True) from None
        except OSError as exc:
            raise NotifyError(f"SMPP connection to {self.where}: {exc.strerror or exc}") from None
        link = _Link(reader, writer)
        link.tasks.append(asyncio.create_task(self._read(link), name="smpp-reader"))
        try:
            await self._bind(link)
        except BaseException:
            await self._drop(link)
            raise
        link.tasks.append(asyncio.create_task(self._keepalive(link), name="smpp-enquire"))
        self.binds += 1
        log.info("SMPP bound", extra={"fields": {"smsc": self.where, "mode": config.bind}})
        return link

    async def _bind(self, link: _Link) -> None:
        config = self.config
        command = pdus.BIND_COMMANDS[config.bind]
        request = pdus.bind(
            command,
            self.next_sequence(),
            config.system_id,
            config.password.get_secret_value(),
            config.system_type,
        )
        answer = await self._request(link, request)
        if answer.status != 0:
            raise NotifyError(
                f"SMPP {pdus.command_name(command)} to {self.where} refused: "
                f"{describe(answer.status)}",
                permanent=True,
            )

    async def _read(self, link: _Link) -> None:
        try:
            while True:
                header = await link.reader.readexactly(pdus.HEADER.size)
                length, command_id, status, sequence = pdus.decode_header(header)
                body = await link.reader.readexactly(length - pdus.HEADER.size)
                self._handle(link, pdus.Pdu(command_id, status, sequence, body))
        except (asyncio.IncompleteReadError, ConnectionError, OSError, pdus.PduError) as exc:
            log.info("SMPP link closed", extra={"fields": {"smsc": self.where, "why": str(exc)}})
        finally:
            link.closed.set()
            link.fail_pending(f"SMPP connection to {self.where} closed")
            link.writer.close()
            self._after_loss(link)

    def _handle(self, link: _Link, pdu: pdus.Pdu) -> None:
        if pdu.is_response:
            future = link.pending.get(pdu.sequence)
            if future is not None and not future.done():
                future.set_result(pdu)
            return
        if pdu.command_id == pdus.ENQUIRE_LINK:
            link.writer.write(pdus.response(pdu).encode())
        elif pdu.command_id == pdus.DELIVER_SM:
            link.writer.write(pdus.response(pdu, b"\x00").encode())
            try:
                sm = pdus.parse_short_message(pdu)
            except pdus.PduError:
                log.warning(
                    "SMPP deliver_sm not understood", extra={"fields": {"smsc": self.where}}
                )
                return
            self.on_deliver(sm)
        elif pdu.command_id == pdus.UNBIND:
            link.writer.write(pdus.response(pdu).encode())
            link.writer.close()
        else:
            link.writer.write(pdus.Pdu(pdus.GENERIC_NACK, 0x03, pdu.sequence).encode())

    async def _keepalive(self, link: _Link) -> None:
        every = self.config.enquire_link.total_seconds()
        while not link.closed.is_set():
            await asyncio.sleep(every)
            try:
                await self._request(link, pdus.Pdu(pdus.ENQUIRE_LINK, 0, self.next_sequence()))
            except NotifyError:
                log.warning("SMPP enquire_link unanswered", extra={"fields": {"smsc": self.where}})
                link.writer.close()
                return

    def _after_loss(self, link: _Link) -> None:
        for task in link.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        stay_bound = self.config.bind == "transceiver" and self.binds > 0
        if self._closing or not stay_bound or self._link is not link:
            return
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = asyncio.create_task(self._rebind(), name="smpp-reconnect")

    async def _rebind(self) -> None:
        delay = 1.0
        cap = self.config.reconnect_max.total_seconds()
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self._ready()
                return
            except NotifyError as exc:
                log.warning(
                    "SMPP reconnect failed",
                    extra={"fields": {"smsc": self.where, "error": str(exc), "retry_s": delay}},
                )
                delay = min(delay * 2, cap)

    async def _drop(self, link: _Link) -> None:
        link.writer.close()
        for task in link.tasks:
            task.cancel()
        await asyncio.gather(*link.tasks, return_exceptions=True)
        with contextlib.suppress(OSError, ssl.SSLError):
            await link.writer.wait_closed()

    async def close(self) -> None:
        """Unbind (bounded wait) and close; no reconnect afterwards."""
        self._closing = True
        if self._reconnect is not None:
            self._reconnect.cancel()
            await asyncio.gather(self._reconnect, return_exceptions=True)
        link, self._link = self._link, None
        if link is None or link.closed.is_set():
            if link is not None:
                await self._drop(link)
            return
        with contextlib.suppress(NotifyError, TimeoutError):
            async with asyncio.timeout(1.0):
                await self._request(link, pdus.Pdu(pdus.UNBIND, 0, self.next_sequence()))
        await self._drop(link)
