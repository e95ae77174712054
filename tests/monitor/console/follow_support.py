"""A console over a config with email and SMS notifiers and call tasks, and a unit liaison.

The liaison (`liaison`, 移动城区分公司, no role) stands for a unit's contact who
signs in only to say 收到: the plan's duty rules (§4.2 (2)) refuse them the rest.
"""

from __future__ import annotations

from pathlib import Path

from monitor.config import Config, load_config
from monitor.console.context import Console
from tests.conftest import Db
from tests.dispatch.followup_support import CHANNELS
from tests.dispatch.support import base_toml, write_config
from tests.monitor.console.support import make_console

CALLS = """
[calls]
within = "5m"
"""
LIAISON = """
[[person]]
id = "liaison"
name = "移动城区分公司联络员"
unit = "移动城区分公司"
roles = []
mobiles = ["13800000099"]
"""


def follow_config(tmp_path: Path, extra: str = "", **console: object) -> Config:
    """The shipped files plus the liaison; notifiers, [calls], and `extra` in commwatch.toml."""
    directory = write_config(
        tmp_path / "conf", base_toml(tmp_path / "cw.db", CHANNELS + CALLS + extra)
    )
    contacts = directory / "contacts.toml"
    contacts.write_text(contacts.read_text(encoding="utf-8") + LIAISON, encoding="utf-8")
    config = load_config(directory)
    settings = {"state_dir": str(tmp_path / "state"), **console}
    daemon = config.daemon.model_copy(
        update={"console": config.daemon.console.model_copy(update=settings)}
    )
    return Config(config.directory, daemon, config.plan, config.contacts, config.inventory)


def follow_console(tmp_path: Path, db: Db, extra: str = "", **console: object) -> Console:
    """A console on `db` (schema created) over `follow_config`."""
    from monitor.storage.migrations import upgrade

    engine = db.engine()
    upgrade(engine)
    config = follow_config(tmp_path, extra, **console)
    return make_console(tmp_path, config=config, engine=engine, extra_people=("liaison",))
