"""Time for drills: injected, so tests never sleep; durations from cloud timestamps."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ClientFactory = Callable[[str, str], Any]  # (boto3 service name, region) -> client


def boto3_clients() -> ClientFactory:
    import boto3

    def make(service: str, region: str) -> Any:
        return boto3.client(service, region_name=region)
    return make


@dataclass
class Clock:
    """`now` for the report's name and for polling; `sleep` between polls."""

    now: Callable[[], datetime] = field(default_factory=lambda: lambda: datetime.now(UTC))
    sleep: Callable[[float], None] = time.sleep
    poll_seconds: float = 15.0
    # A drill that has not finished after this many polls is reported as unfinished.
    max_polls: int = 480


def as_datetime(raw: Any) -> datetime | None:
    """A cloud timestamp (datetime, epoch seconds or RFC 3339 text) as an aware datetime."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    if isinstance(raw, int | float):
        return datetime.fromtimestamp(raw, UTC)
    text = str(raw).replace("Z", "+00:00")
    return as_datetime(datetime.fromisoformat(text))


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def timed(term: str, source: str, start: Any, end: Any, **detail: Any) -> dict[str, Any]:
    """One measured term: from .. to (cloud timestamps) and the seconds between."""
    begin, finish = as_datetime(start), as_datetime(end)
    return {"term": term, "source": source, "from": iso(begin), "to": iso(finish),
            "seconds": seconds_between(begin, finish), **detail}
