"""Acceptance: the installed program (a wheel in a fresh venv), run as an operator runs it."""
