"""Where things are, for tests anywhere in the tree."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout
SHIPPED_CONFIG = ROOT / "config"
TEST_DATA = ROOT / "tests" / "data"
PLAN_DATA = TEST_DATA / "plan"
