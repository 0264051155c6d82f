"""Mutation fuzzing of the public API (see harness.py)."""
