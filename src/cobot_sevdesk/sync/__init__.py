"""The use cases: members, invoices, reconciliation, backfill. They return outcomes
or raise typed errors; the runtime is their only caller, and they never call back
into it."""
