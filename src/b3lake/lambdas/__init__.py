"""The Lambda handlers AWS runs; the local pipeline calls the very same functions."""
