"""Global concurrency and rate limits per job type and per key, enforced in the database."""

from workq_core.limits.spec import Limit

__all__ = ["Limit"]
