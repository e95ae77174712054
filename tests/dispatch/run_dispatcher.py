"""Run a Dispatcher on a config directory until killed (the crash-safety test's subprocess).

    python -m tests.dispatch.run_dispatcher CONFIG_DIR

Prints "ready" once started; stops cleanly on SIGTERM (the test uses SIGKILL).
"""

from __future__ import annotations

import asyncio
import signal
import sys

from dispatch.dispatcher import Dispatcher
from monitor.config import load_config
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade as create_schema


async def main(directory: str) -> None:
    config = load_config(directory)
    engine = open_engine(config.daemon.storage.url)
    create_schema(engine)
    dispatcher = Dispatcher(config, engine)
    dispatcher.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    await dispatcher.stop(5)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
