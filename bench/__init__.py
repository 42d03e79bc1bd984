"""Benchmarks, run by `make bench` (`python -m bench`); the contract is in README.md."""
