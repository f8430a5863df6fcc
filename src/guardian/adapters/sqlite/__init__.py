"""The embedded audit index on SQLite: events, aggregations, retention."""
