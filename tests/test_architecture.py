"""The house rules of docs/architecture.md, checked on the source (imports read with ast).

- The core (monitor/ except app.py, cli.py, commands/, console/) imports nothing from dispatch/.
- No import cycle between modules, imports under TYPE_CHECKING and inside functions included.
- At most 6 Python files stand directly in monitor/ (the rest live in rooms).
- `commwatch status --offline` on SQLite (the shipped config) runs without SQLAlchemy,
  pydantic or Alembic (checked in a fresh interpreter: `monitor.storage.reads`).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_config
from monitor.nodes.state import NodeState, Status
from monitor.storage.engine import open_engine
from monitor.storage.store import Store
from tests.paths import ROOT, SHIPPED_CONFIG

PACKAGES = ("monitor", "probes", "dispatch")
EDGE_OF_CORE = (
    "monitor.app",
    "monitor.cli",
    "monitor.commands",
    "monitor.console",
    "monitor.__main__",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {
        module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
    }


def imported(path: Path, known: set[str]) -> Iterator[str]:
    """Every project module this file imports, wherever the import statement stands."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: set(imported(path, known)) - {name} for name, path in found.items()}


def in_core(name: str) -> bool:
    return name.startswith("monitor") and not any(
        name == edge or name.startswith(edge + ".") for edge in EDGE_OF_CORE
    )


def test_the_core_imports_nothing_from_dispatch() -> None:
    offenders = sorted(
        f"{module} → {target}"
        for module, targets in graph().items()
        if in_core(module)
        for target in targets
        if target == "dispatch" or target.startswith("dispatch.")
    )
    assert offenders == []


def _cycle_from(start: str, edges: dict[str, set[str]]) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(edges.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_import_cycles() -> None:
    edges = graph()
    # a package's __init__ that only documents it imports nothing; parents are not edges
    cycles = {tuple(c) for m in edges if (c := _cycle_from(m, edges)) is not None}
    assert sorted(" → ".join(c) for c in cycles) == []


def test_monitor_top_level_holds_only_the_entry_points() -> None:
    top = sorted(p.name for p in (ROOT / "monitor").glob("*.py"))
    assert len(top) <= 6, top


@pytest.mark.parametrize("package", PACKAGES)
def test_every_folder_is_a_package(package: str) -> None:
    """Packages are discovered at build time: a folder without __init__.py would not ship."""
    folders = [
        d
        for d in (ROOT / package).rglob("*")
        if d.is_dir() and any(d.glob("*.py")) and "__pycache__" not in d.parts
    ]
    assert [str(d) for d in folders if not (d / "__init__.py").exists()] == []


STATUS_WITHOUT = ("sqlalchemy", "pydantic", "alembic", "asyncio")


def test_status_offline_on_sqlite_imports_no_sqlalchemy_pydantic_or_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shipped config, its SQLite database made by `db upgrade` (which caches the config)."""
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    config = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, config)
    assert main(["db", "upgrade", "-c", str(config)]) == 0
    capsys.readouterr()
    store = Store(open_engine(f"sqlite:///{state / 'commwatch.db'}"), own_engine=True)
    nodes = load_config(config).inventory.node
    store.sync_nodes(nodes)
    store.write_batch([], [], {n.id: NodeState(Status.DOWN, datetime.now(UTC)) for n in nodes})
    store.close()
    probe = (
        "import sys; from monitor.cli import main; "
        "code = main(['status', '--offline', '-c', sys.argv[1]]); "
        f"print(sorted(m for m in {STATUS_WITHOUT!r} if m in sys.modules), file=sys.stderr); "
        "sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "STATE_DIRECTORY": str(state)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "cmcc-core-1" in done.stdout
    assert "全部业务中断：" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"
