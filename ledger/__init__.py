"""Provable history: the hash chain over the event store, its seal, verification and checkpoints."""
