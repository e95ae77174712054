"""An incident as JSON: one shape for `incident list|show --json` and the console API.

Every column of the incident (datetimes as ISO 8601), plus the derived flags
`open`, `warning_active`, `response_active` and `restored` (the outage is
over: `restored_at` is set).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from monitor.incidents.lifecycle import Incident


def to_json(value: Any) -> Any:
    """Dataclasses, datetimes and containers → JSON-ready values."""
    if hasattr(value, "__dataclass_fields__"):
        return to_json(asdict(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def incident_json(incident: Incident) -> dict[str, Any]:
    """An incident as a JSON object (with derived open/active/restored flags)."""
    data: dict[str, Any] = to_json(incident)
    data["open"] = incident.is_open
    data["warning_active"] = incident.warning_active
    data["response_active"] = incident.response_active
    data["restored"] = incident.restored_at is not None
    return data
