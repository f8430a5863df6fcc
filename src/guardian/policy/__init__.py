"""Policy: the request/decision model, the compiled decision index and the decision pipeline."""
