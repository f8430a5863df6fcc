"""Audit: event schema, hash chain, the durable journal with signed checkpoints, the shipper to
the audit index, verification of the trail, and auditors' queries."""
