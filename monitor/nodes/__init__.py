"""Nodes: the per-node state machine, flapping, topology, time windows and the node table."""
