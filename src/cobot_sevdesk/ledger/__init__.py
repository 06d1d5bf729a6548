"""The database: connected spaces, the sync ledger and its history. The ledger is the
source of truth for what has to happen; the queue only wakes workers."""
