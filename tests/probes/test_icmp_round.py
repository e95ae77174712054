"""Matching replies to requests and summarising a round, fed by hand (no sockets)."""

from __future__ import annotations

import errno

import pytest

from monitor.config.inventory import NodeConfig
from probes.icmp import describe_send_error
from probes.icmp_packets import ECHO_REPLY, TTL_EXCEEDED, UNREACHABLE, Reply
from probes.icmp_round import IcmpRound, deliver, jitter
from probes.icmp_socket import permission_help

MS = 1_000_000
OURS = 0xBEEF
A, B = "198.18.0.2", "198.18.0.3"


def node(address: str, ident: str = "n") -> NodeConfig:
    return NodeConfig(id=ident, name=ident, system="s", address=address)


def round_with(*addresses: str, count: int = 1, timeout_ms: int = 1000) -> IcmpRound:
    """A round that sent one request per address with seq 100+index at t=0."""
    rnd = IcmpRound(len(addresses), count, timeout_ms * MS)
    for index, address in enumerate(addresses):
        rnd.on_send((address, 100 + index), index, 0, 0)
    return rnd


# (name, reply, source, ident we check (None: ping socket), delivered?)
MATCHING = [
    ("ours", Reply(ECHO_REPLY, OURS, 100, None), A, OURS, True),
    ("other-source-same-seq", Reply(ECHO_REPLY, OURS, 100, None), B, OURS, False),
    ("other-ident", Reply(ECHO_REPLY, OURS ^ 1, 100, None), A, OURS, False),
    ("unknown-seq", Reply(ECHO_REPLY, OURS, 999, None), A, OURS, False),
    ("ping-socket-ignores-ident", Reply(ECHO_REPLY, 4711, 100, None), A, None, True),
    ("ping-socket-checks-source", Reply(ECHO_REPLY, 4711, 100, None), B, None, False),
    ("error-matched-on-inner-target", Reply(UNREACHABLE, OURS, 100, A), "10.9.9.9", OURS, True),
    ("error-about-other-target", Reply(UNREACHABLE, OURS, 100, B), "10.9.9.9", OURS, False),
]


@pytest.mark.parametrize(
    ("reply", "source", "ident", "delivered"),
    [case[1:] for case in MATCHING],
    ids=[case[0] for case in MATCHING],
)
def test_deliver_matches_source_id_and_seq(
    reply: Reply, source: str, ident: int | None, delivered: bool
) -> None:
    rnd = round_with(A)
    assert deliver([rnd], reply, source, 5 * MS, ident) is delivered
    assert (not rnd.pending) is delivered


def test_duplicate_reply_counts_once() -> None:
    rnd = round_with(A)
    assert deliver([rnd], Reply(ECHO_REPLY, OURS, 100, None), A, MS, OURS)
    assert not deliver([rnd], Reply(ECHO_REPLY, OURS, 100, None), A, 2 * MS, OURS)
    assert rnd.results([node(A)])[0].values["received"] == 1


def test_deliver_finds_the_round_among_concurrent_ones() -> None:
    first, second = round_with(A), IcmpRound(1, 1, 1000 * MS)
    second.on_send((B, 7), 0, 0, 0)
    assert deliver([first, second], Reply(ECHO_REPLY, OURS, 7, None), B, MS, OURS)
    assert first.pending
    assert not second.pending


def test_done_is_set_when_the_last_request_is_answered_after_sending() -> None:
    rnd = round_with(A, B)
    rnd.on_reply(ECHO_REPLY, (A, 100), MS)
    rnd.finish_sending()
    assert not rnd.done.is_set()
    rnd.on_reply(ECHO_REPLY, (B, 101), MS)
    assert rnd.done.is_set()


def test_finish_sending_with_nothing_in_flight_is_done() -> None:
    rnd = IcmpRound(1, 1, MS)
    rnd.finish_sending()
    assert rnd.done.is_set()


# (name, events per sweep: received-ns or None (lost) or "unreachable", count, expected)
SUMMARIES = [
    (
        "all-answered",
        [2 * MS, 4 * MS, 3 * MS],
        {
            "ok": True,
            "loss": 0.0,
            "rtt_ms": 3.0,
            "rtt_min_ms": 2.0,
            "rtt_max_ms": 4.0,
            "jitter_ms": 1.5,
            "sent": 3,
            "received": 3,
        },
    ),
    (
        "one-lost",
        [2 * MS, None, 4 * MS],
        {
            "ok": True,
            "loss": pytest.approx(1 / 3),
            "rtt_ms": 3.0,
            "jitter_ms": 2.0,
            "sent": 3,
            "received": 2,
        },
    ),
    (
        "silent",
        [None, None, None],
        {
            "ok": False,
            "loss": 1.0,
            "rtt_ms": None,
            "error": "timeout",
            "rtt_min_ms": None,
            "sent": 3,
            "received": 0,
        },
    ),
    ("slower-than-timeout-is-lost", [1500 * MS], {"ok": False, "loss": 1.0, "error": "timeout"}),
    ("clock-step-clamped-to-zero", [-5 * MS], {"ok": True, "rtt_ms": 0.0, "rtt_min_ms": 0.0}),
    ("unreachable", ["unreachable", None], {"ok": False, "loss": 1.0, "error": "unreachable"}),
    ("ttl-exceeded", ["ttl", None], {"ok": False, "error": "ttl-exceeded"}),
    (
        "answered-beats-unreachable",
        ["unreachable", 1 * MS],
        {"ok": True, "loss": 0.5, "error": None},
    ),
]


@pytest.mark.parametrize(
    ("events", "expected"), [c[1:] for c in SUMMARIES], ids=[c[0] for c in SUMMARIES]
)
def test_summary(events: list[int | str | None], expected: dict[str, object]) -> None:
    rnd = IcmpRound(1, len(events), 1000 * MS)
    for sweep, event in enumerate(events):
        rnd.on_send((A, sweep), 0, sweep, 0)
        if event == "unreachable":
            rnd.on_reply(UNREACHABLE, (A, sweep), MS)
        elif event == "ttl":
            rnd.on_reply(TTL_EXCEEDED, (A, sweep), MS)
        elif isinstance(event, int):
            rnd.on_reply(ECHO_REPLY, (A, sweep), event)
    result = rnd.results([node(A)])[0]
    body = {"ok": result.ok, "loss": result.loss, "rtt_ms": result.rtt_ms, "error": result.error}
    body.update(result.values)
    assert result.probe == "icmp"
    assert result.node == "n"
    for key, value in expected.items():
        assert body[key] == value, key


def test_send_error_names_the_cause_and_loss_is_total() -> None:
    rnd = IcmpRound(1, 3, MS)
    rnd.on_send_error(0, *describe_send_error(OSError(errno.ENETUNREACH, "Network is unreachable")))
    result = rnd.results([node(A)])[0]
    assert (result.ok, result.loss, result.error) == (False, 1.0, "unreachable")
    assert result.detail == "Network is unreachable"
    assert result.values["sent"] == 0


def test_replies_are_summarised_in_sequence_order() -> None:
    rnd = IcmpRound(1, 3, 1000 * MS)
    for sweep in range(3):
        rnd.on_send((A, sweep), 0, sweep, 0)
    for sweep, rtt in [(2, 3), (0, 1), (1, 5)]:  # arrival order differs from sending order
        rnd.on_reply(ECHO_REPLY, (A, sweep), rtt * MS)
    assert rnd.results([node(A)])[0].values["jitter_ms"] == 3.0  # |5-1| and |3-5|


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (errno.EHOSTUNREACH, "unreachable"),
        (errno.ENETUNREACH, "unreachable"),
        (errno.EHOSTDOWN, "unreachable"),
        (errno.EACCES, "prohibited"),
        (errno.EPERM, "prohibited"),
        (errno.EINVAL, "send-error EINVAL"),
    ],
    ids=["host", "net", "hostdown", "acces", "perm", "other"],
)
def test_describe_send_error(code: int, expected: str) -> None:
    assert describe_send_error(OSError(code, "x"))[0] == expected


@pytest.mark.parametrize(
    ("rtts", "expected"),
    [([], 0.0), ([1.0], 0.0), ([1.0, 3.0], 2.0), ([1.0, 3.0, 2.0], 1.5)],
    ids=["none", "one", "two", "three"],
)
def test_jitter_is_mean_absolute_consecutive_difference(rtts: list[float], expected: float) -> None:
    assert jitter(rtts) == expected


@pytest.mark.parametrize(
    ("denied", "must_say"),
    [
        (["raw", "dgram"], ["CAP_NET_RAW", "AmbientCapabilities", "ping_group_range"]),
        (["raw"], ["CAP_NET_RAW"]),
        (["dgram"], ["ping_group_range", "sysctl -w"]),
    ],
    ids=["auto", "raw", "dgram"],
)
def test_permission_help_tells_the_operator_what_to_do(
    denied: list[str], must_say: list[str]
) -> None:
    text = permission_help(denied)  # type: ignore[arg-type]
    for phrase in must_say:
        assert phrase in text
