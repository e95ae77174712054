"""`commwatch notify-test --notifier NAME --to ADDRESS`: send a test notice through one channel now.

The message is rendered from the shipped (or overridden) templates as notice
kind "test" and sent directly, bypassing the outbox and the database. Exit 0
when the gateway accepted it, 1 when it failed (the reason and whether it is
permanent on stderr), 2 for an unknown notifier or an address the channel
cannot take (a landline for SMS).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

import httpx

from dispatch.base import Delivery, Message, NotifyError
from dispatch.notice_data import build_view
from dispatch.numbers import classify, describe, voice_address
from dispatch.registry import build_notifier, channel_of
from dispatch.render import Renderer
from monitor.commands.common import load_or_report
from monitor.commands.support import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, add_config_option
from monitor.config import Config
from monitor.config.notifiers import NotifierConfig


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the notify-test command."""
    parser = subparsers.add_parser(
        "notify-test", help="send a test notice through one [[notifier]] now"
    )
    add_config_option(parser)
    parser.add_argument("--notifier", required=True, metavar="NAME", help="a [[notifier]] name")
    parser.add_argument(
        "--to",
        required=True,
        metavar="ADDRESS",
        help="an email address or a mobile number (for a group robot: the mobile to @-mention)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Send one test message; exit 0 accepted, 1 failed, 2 bad notifier or address."""
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    chosen = {n.name: n for n in config.daemon.notifier}.get(args.notifier)
    if chosen is None:
        known = ", ".join(sorted(n.name for n in config.daemon.notifier)) or "none configured"
        print(f"error: unknown notifier {args.notifier!r} (known: {known})", file=sys.stderr)
        return EXIT_USAGE
    channel = channel_of(chosen)
    address = args.to
    if channel in ("sms", "robot"):  # a robot @-mentions the mobile
        number = classify(args.to)
        if number.sms_address is None:
            print(f"error: {args.to!r} is {describe(number.kind)}", file=sys.stderr)
            return EXIT_USAGE
        address = number.sms_address
    if channel == "voice":
        ringable = voice_address(args.to)
        if ringable is None:
            print(f"error: {args.to!r} is {describe(classify(args.to).kind)}", file=sys.stderr)
            return EXIT_USAGE
        address = ringable
    message = test_message(config, channel, address)
    try:
        delivery = asyncio.run(_send(chosen, message, config))
    except NotifyError as exc:
        kind = "permanent" if exc.permanent else "transient"
        print(f"error: {chosen.name}: {exc} ({kind})", file=sys.stderr)
        return EXIT_RUNTIME
    detail = f": {delivery.detail}" if delivery.detail else ""
    print(f"accepted by {chosen.name} ({chosen.type}) for {address}{detail}")
    return EXIT_OK


def test_message(config: Config, channel: str, address: str) -> Message:
    """The rendered test notice for a channel (SMS: text only; email and file: full)."""
    now = datetime.now(UTC)
    view = build_view(config, "test", None, None, {"at": now.isoformat()}, now)
    rendered = Renderer.for_config(config).message(view, channel)
    key = f"commwatch.test.{int(now.timestamp() * 1000)}"
    return Message(0, address, rendered.subject, rendered.text, rendered.html, key)


async def _send(config: NotifierConfig, message: Message, full: Config) -> Delivery:
    async with httpx.AsyncClient() as client:
        credentials = full.daemon.cloud.credential
        notifier = build_notifier(config, client, credentials=credentials)
        try:
            async with asyncio.timeout(config.timeout.total_seconds() + 5):
                return await notifier.send(message)
        except TimeoutError:
            raise NotifyError(f"no answer within {config.timeout.total_seconds():g}s") from None
        finally:
            await notifier.close()
