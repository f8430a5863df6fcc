"""Audit: event schema, hash chain, the durable journal and its verifier."""
