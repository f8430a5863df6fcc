"""In-memory implementations of the ports, for unit tests, policy tests and what-if checks."""
