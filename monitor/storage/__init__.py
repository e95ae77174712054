"""Storage: the engine, the monitor tables, the batching writer and its buffer."""
