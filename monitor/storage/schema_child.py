"""Create a new database's schema in a short-lived child process (for `commwatch run`).

`run` creates the schema of an empty database itself (`migrations.prepare`).
Doing that in the daemon's own process would keep what Alembic and the
revision scripts load — ~10 MiB of modules, Mako templates and reflected
metadata — in its RSS for as long as it runs, though it never needs them
again. `upgrade_in_child(engine, busy_timeout_s)` runs `migrations.upgrade`
in `python -P -m monitor.storage.schema_child` instead (the URL, which may hold a
password, goes through stdin, never argv; `-P` keeps the daemon's working
directory off the child's path, so a `monitor/` there cannot stand in for the
installed one) and returns the same (before, after) states; a failure there is
a SchemaError with the child's one-line reason. A database only this process
can see (SQLite in memory) is upgraded in process.

`commwatch db upgrade` is a short-lived command and upgrades in process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from sqlalchemy import Engine

from monitor.storage.migrations import LOCK_WAIT_S, SchemaError, SchemaState, upgrade

CHILD_TIMEOUT_S = LOCK_WAIT_S + 120  # the migration lock's wait, then the DDL itself
REFUSED = 3  # the child's exit status for a SchemaError (its message is the reason)


def upgrade_in_child(engine: Engine, busy_timeout_s: float) -> tuple[SchemaState, SchemaState]:
    """`migrations.upgrade(engine)`, run in a child process when the database allows it."""
    database = engine.url.database or ""
    in_memory = engine.url.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or "mode=memory" in database
    )
    if in_memory or not sys.executable:
        return upgrade(engine)
    request = {"url": engine.url.render_as_string(hide_password=False), "busy": busy_timeout_s}
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-m", "monitor.storage.schema_child"],  # -P: not from the cwd
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SchemaError(f"creating the schema took more than {CHILD_TIMEOUT_S} s") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        if done.returncode == REFUSED:  # the database's own SchemaError, as in process
            raise SchemaError(lines[-1])
        raise SchemaError(f"creating the schema failed: {lines[-1]}")
    before, after = json.loads(done.stdout)
    return _state(before), _state(after)


def _state(data: dict[str, Any]) -> SchemaState:
    return SchemaState(revision=data["revision"], empty=bool(data["empty"]))


def main() -> int:
    """The child: upgrade the database named on stdin; states on stdout, a reason on stderr."""
    from monitor.storage.engine import open_engine

    request = json.loads(sys.stdin.read())
    engine = open_engine(request["url"], float(request["busy"]))
    try:
        states = upgrade(engine)
    except SchemaError as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return REFUSED
    except Exception as exc:  # one line for the parent, whatever it was
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(f"{type(exc).__name__}: {reason}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(json.dumps([{"revision": s.revision, "empty": s.empty} for s in states]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
