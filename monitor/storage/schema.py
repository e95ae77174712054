"""Creating the schema: every table registered on `monitor.storage.engine.metadata`.

The core's tables register when this module is imported; dispatch registers the
outbox tables when `dispatch.models` is imported (app.py and the commands that
read the outbox do), so the core never imports dispatch.
"""

from __future__ import annotations

from sqlalchemy import Engine

import monitor.incidents.tables
import monitor.storage.tables  # noqa: F401  (nodes, samples, state changes, node states)
from monitor.storage.engine import metadata


def create_schema(engine: Engine) -> None:
    """Create every registered table that does not exist yet."""
    metadata.create_all(engine)
