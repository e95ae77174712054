"""部分业务受影响: one information notice to the system's own unit when part of its business goes.

A partial system is never a scenario and opens no incident (§3.3 speaks of 全部业务);
its responsible unit is told once per episode — when the system first shows as
partial — and again only after it was whole-or-clear in between. The HQ office
gets it too (it receives every notice). No incident: `incident_id` None.
"""

from __future__ import annotations

import re
from datetime import datetime

from monitor.config import Config
from monitor.incidents.notices import NoticeKind, NoticeRequest, NoticeSink
from monitor.plan.assessment import Assessment

CLAUSE = re.compile(r"（[^（）]*§[^（）]*）|【[^【】]*§[^【】]*】")


class PartialNotices:
    """Turns newly partial systems into notice requests (see the module docstring)."""

    def __init__(self, sink: NoticeSink) -> None:
        self.sink = sink
        self._since: dict[str, datetime] = {}

    def update(self, config: Config, assessment: Assessment, now: datetime) -> int:
        """Announce systems that became partial since the last call; returns how many."""
        current = set(assessment.partial_systems)
        for sid in set(self._since) - current:
            del self._since[sid]
        fresh = sorted(current - set(self._since))
        for sid in fresh:
            self._since[sid] = now
            system = config.systems.get(sid)
            name = system.name if system is not None else sid
            reason = next(
                (r for r in assessment.reasons if name in r and "部分业务受影响" in r),
                f"{name}部分业务受影响",
            )
            line = CLAUSE.sub("", reason)  # clauses go in the notice's 附注, not its text
            self.sink.submit(
                NoticeRequest(
                    kind=NoticeKind.PARTIAL,
                    incident_id=None,
                    dedupe_key=f"partial:{sid}:{now.isoformat()}",
                    assessment=Assessment(partial_systems=(sid,), reasons=(reason,)),
                    context={"note": line, "title": f"{name}部分业务受影响（知悉）"},
                    created_at=now,
                )
            )
        return len(fresh)
