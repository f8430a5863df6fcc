"""Adapters: the only code that touches files, vendor clients and databases."""
