"""Benchmarks and the resilience run (`make bench`, `python -m bench.run`); see bench/README.md."""
