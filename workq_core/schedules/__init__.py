"""Durable schedules: recurring submissions fired by whichever jobs service holds the lease."""
