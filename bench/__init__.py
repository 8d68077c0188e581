"""Benchmarks of the adapter: `python -m bench [ingest|e2e|soak]`. Figures are printed, never asserted."""
