"""Probe plugins: one module each, one registry (see probes.registry)."""
