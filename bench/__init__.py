"""Benchmarks: ``make bench`` (``python -m bench``). Each scenario runs in its own
process against the sandboxes on loopback, bounded in count and time, and prints
numbers; results go to bench-results/ and the README's table."""
