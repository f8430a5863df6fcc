"""Outgoing HTTP (httpx): the witness webhook and other webhooks."""
