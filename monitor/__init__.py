"""commwatch: communication-network monitoring for the 晋城市城区 emergency plan."""

__version__ = "0.2.0"
