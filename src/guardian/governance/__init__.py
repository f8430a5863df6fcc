"""Governance: who may do what beyond the directory — temporary grants and application keys."""
