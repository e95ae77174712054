"""部分业务受影响 (§3.3): one information notice per system and episode, never an incident."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import Config, load_config
from monitor.incidents.notices import NoticeKind, NoticeRequest
from monitor.nodes.topology import what_if
from monitor.plan.scorer import assess
from monitor.runtime.partial_notices import PartialNotices
from tests.paths import PLAN_DATA, ROOT

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


class ListSink:
    def __init__(self) -> None:
        self.requests: list[NoticeRequest] = []

    def submit(self, request: NoticeRequest) -> None:
        self.requests.append(request)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    target = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return load_config(target)


def test_one_notice_per_partial_episode(world: Config) -> None:
    sink = ListSink()
    notices = PartialNotices(sink)
    steps = [
        ["opa-agg-1"],  # 移动 partial → notice
        ["opa-agg-1", "opa-agg-2"],  # still partial → nothing
        ["opa-agg-1", "ks1-web"],  # 政务外网 partial too → one more
        [],  # clear
        ["opa-agg-2"],  # partial again → a new episode
        ["opa-core"],  # whole → no partial notice
    ]
    for minute, down in enumerate(steps):
        result = assess(world, what_if(world, down))
        notices.update(world, result, T0 + timedelta(minutes=minute))
    assert [
        (r.kind, r.assessment.partial_systems if r.assessment else ()) for r in sink.requests
    ] == [
        (NoticeKind.PARTIAL, ("opa",)),
        (NoticeKind.PARTIAL, ("ks1",)),
        (NoticeKind.PARTIAL, ("opa",)),
    ]
    assert all(r.incident_id is None for r in sink.requests)
    note = sink.requests[0].context["note"]
    assert "部分业务受影响，不单独构成预警情形" in note
    assert "§" not in note  # clauses go in the notice's 附注
    assert len({r.dedupe_key for r in sink.requests}) == 3
