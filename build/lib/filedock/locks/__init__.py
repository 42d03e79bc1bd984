"""Locks: in-memory for one process, Redis across replicas."""
