"""What a limit is, how it is written down, and which key of it an item belongs to."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

USER_KEY = "user"
_MAX_VALUE = 120  # longer key values are hashed, so a scope fits its column
_FIELDS = ("key", "concurrency", "rate", "per_s")


@dataclass(frozen=True)
class Limit:
    """At most ``concurrency`` items running at once and/or ``rate`` starts per ``per_s`` seconds.

    ``key`` says what the limit counts separately: None, the whole job type;
    ``"user"``, each submitting user; a JSON pointer such as ``"/customer_id"``,
    each value found there in the item's data (items without it share the key
    ``null``). Rates are a sliding window: in no ``per_s`` long stretch do more
    than ``rate`` attempts of one key start.
    """

    key: str | None = None
    concurrency: int | None = None
    rate: int | None = None
    per_s: float = 1.0

    def __post_init__(self) -> None:
        if self.concurrency is None and self.rate is None:
            raise ValueError("a limit needs concurrency, rate, or both")
        if self.concurrency is not None and not _positive_int(self.concurrency):
            raise ValueError(f"concurrency must be a positive integer, not {self.concurrency!r}")
        if self.rate is not None and not _positive_int(self.rate):
            raise ValueError(f"rate must be a positive integer, not {self.rate!r}")
        if isinstance(self.per_s, bool) or not isinstance(self.per_s, int | float):
            raise ValueError(f"per_s must be a number of seconds, not {self.per_s!r}")
        if not 0.001 <= self.per_s <= 31 * 86_400:
            raise ValueError(f"per_s must be between 0.001 and 2678400 seconds, not {self.per_s}")
        if self.key is not None and self.key != USER_KEY and not self.key.startswith("/"):
            raise ValueError(
                f"key must be None, {USER_KEY!r} or a JSON pointer starting with '/', "
                f"not {self.key!r}"
            )

    @property
    def per_ms(self) -> int:
        return max(1, round(self.per_s * 1000))

    def scope(self, job_type: str, data: Any, user_id: int) -> str:
        """The name of the key an item counts against: job type, key, value."""
        return f"{job_type}|{self.key or '*'}|{self.value(data, user_id)}"

    def value(self, data: Any, user_id: int) -> str:
        if self.key is None:
            return ""
        if self.key == USER_KEY:
            return str(user_id)
        found = pointer(data, self.key)
        text = found if isinstance(found, str) else json.dumps(found, sort_keys=True)
        if len(text) > _MAX_VALUE:
            return "sha1:" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
        return text


def pointer(data: Any, path: str) -> Any:
    """The value at JSON pointer ``path`` (RFC 6901) in ``data``, or None when absent."""
    node = data
    for raw in path.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def parse_limits(raw: Any) -> tuple[Limit, ...]:
    """Limits from JSON-like data (a list of objects); ValueError names the bad entry."""
    if not isinstance(raw, list):
        raise ValueError("limits must be a list of objects")
    limits = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise ValueError(f"limit {index} must be an object")
        unknown = sorted(set(entry) - set(_FIELDS))
        if unknown:
            raise ValueError(f"limit {index} has unknown fields: {', '.join(unknown)}")
        values = {k: v for k, v in entry.items() if v is not None}
        try:
            limits.append(Limit(**values))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"limit {index}: {exc}") from None
    check_limits(limits)
    return tuple(limits)


def check_limits(limits: Sequence[Any]) -> None:
    """Each a Limit, each key at most once (one limit holds both bounds of a key)."""
    seen: set[str | None] = set()
    for index, limit in enumerate(limits):
        if not isinstance(limit, Limit):
            raise ValueError(f"limit {index} is {limit!r}; expected a workq_core.Limit")
        if limit.key in seen:
            raise ValueError(f"limit {index} repeats key {limit.key!r}; combine them into one")
        seen.add(limit.key)


def dump_limits(limits: Sequence[Limit]) -> str:
    return json.dumps([asdict(limit) for limit in limits], sort_keys=True)
