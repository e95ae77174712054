"""Alembic revision scripts (explicit DDL, one file per schema revision, shipped in the wheel)."""
