"""Metrics in the Prometheus format (prometheus_client)."""
