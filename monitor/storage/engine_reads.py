"""`Reader` over SQLAlchemy: the status SQL on PostgreSQL and inside the daemon."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from monitor.storage.reads import Row


class EngineReader:
    """Runs SQL text on an engine (a connection per read) or inside one connection."""

    errors: tuple[type[BaseException], ...] = (SQLAlchemyError,)

    def __init__(self, bind: Engine | Connection, *, own_engine: bool = False) -> None:
        self.bind = bind
        self._own_engine = own_engine

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[Row]:
        """`connection.execute(text(sql), params).mappings()`, all rows."""
        if isinstance(self.bind, Connection):
            return self.bind.execute(text(sql), dict(params or {})).mappings().all()
        with self.bind.connect() as connection:
            return connection.execute(text(sql), dict(params or {})).mappings().all()

    def close(self) -> None:
        """Dispose of the engine when this reader opened it."""
        if self._own_engine and isinstance(self.bind, Engine):
            self.bind.dispose()
