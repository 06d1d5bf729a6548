"""Pure rules: money, taxes, and the mapping of Cobot payloads to sevDesk bodies.
Nothing here does I/O."""
