"""Retention: delete finished jobs past their age, in small batches, in one replica at a time."""
