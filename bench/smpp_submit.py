"""SMPP submit throughput: commwatch's asyncio ESME beside smpplib, against node-smpp's SMSC.

    python bench/smpp_submit.py [N] [WINDOW]     (default 2000 messages, window 10)

Both send N single-part Chinese SMS (UCS-2) over one bind_transceiver to the
test SMSC (tests/peers/smsc, `npm ci --prefix tests/peers/smsc` first) on
127.0.0.1. commwatch keeps WINDOW submits in flight; smpplib (the reference
client, `pip install smpplib`) is synchronous: one submit, then its response.
Prints one JSON line per client: messages, seconds, messages/s, CPU seconds.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.base import Message
from dispatch.sms_smpp import SmppNotifier
from monitor.config.notifiers import SmppNotifierConfig
from tests.smsc import NodeSmsc

TEXT = "【预警通知】移动城区分公司网络中断，请做好应急准备。回电0356-2039294"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def commwatch(port: int, count: int, window: int) -> dict[str, float]:
    config = SmppNotifierConfig(
        name="bench",
        type="sms_smpp",
        host="127.0.0.1",
        port=port,
        system_id="bench",
        password="bench",  # type: ignore[arg-type]
        source_addr="10690001",
        window=window,
        rate=10000,
        registered_delivery=False,
    )
    notifier = SmppNotifier(config, lambda _e: None)
    await notifier.send(Message(0, "13800000000", "", TEXT))  # bind outside the timing
    start, used = time.perf_counter(), cpu()
    await asyncio.gather(
        *(notifier.send(Message(i, "13800000000", "", TEXT)) for i in range(count))
    )
    seconds, used = time.perf_counter() - start, cpu() - used
    await notifier.close()
    return {"messages": count, "seconds": seconds, "per_s": count / seconds, "cpu_s": used}


def reference(port: int, count: int) -> dict[str, float]:
    import smpplib.client
    import smpplib.consts
    import smpplib.gsm

    client = smpplib.client.Client("127.0.0.1", port, timeout=5, allow_unknown_opt_params=True)
    client.set_message_sent_handler(lambda **_kw: None)
    client.connect()
    client.bind_transceiver(system_id="bench", password="bench")
    parts, coding, esm = smpplib.gsm.make_parts(TEXT)
    start, used = time.perf_counter(), cpu()
    for _ in range(count):
        for part in parts:
            client.send_message(
                source_addr="10690001",
                destination_addr="13800000000",
                short_message=part,
                data_coding=coding,
                esm_class=esm,
            )
            client.read_once()  # its submit_sm_resp
    seconds, used = time.perf_counter() - start, cpu() - used
    client.unbind()
    client.disconnect()
    return {"messages": count, "seconds": seconds, "per_s": count / seconds, "cpu_s": used}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    window = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with NodeSmsc("bench", "bench") as smsc:
        result = asyncio.run(commwatch(smsc.port, count, window))
        print(json.dumps({"client": f"commwatch window={window}", **result}))
        try:
            print(json.dumps({"client": "smpplib (sync)", **reference(smsc.port, count)}))
        except ImportError:
            print(json.dumps({"client": "smpplib", "skipped": "pip install smpplib"}))


if __name__ == "__main__":
    main()
