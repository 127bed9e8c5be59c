"""Session history: records, the store, the progression program (docs/history.md,
docs/journey.md)."""
