"""Incidents: lifecycle, authority, engine, tracking, store, tables, notice requests."""
