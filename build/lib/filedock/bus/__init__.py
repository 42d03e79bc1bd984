"""Event buses: in-memory for one process, Redis for several."""
