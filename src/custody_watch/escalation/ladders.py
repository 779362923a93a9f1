"""Escalation policies as plain data, and their JSON form for the alert's snapshot.

The policies are copied onto an alert when it opens, so a config reload cannot change an
alert that is already escalating (grafana/oncall's escalation snapshot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from custody_watch.domain import Severity

DEFAULT_ACK_TIMEOUT = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class Level:
    notify: tuple[str, ...]  # roles (or person ids)
    channels: tuple[str, ...]
    wait: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Ladder:
    levels: tuple[Level, ...]
    repeat_every: timedelta | None = None
    ack_timeout: timedelta = DEFAULT_ACK_TIMEOUT

    @property
    def last(self) -> int:
        return len(self.levels) - 1


# A severity without a ladder notifies nobody (info findings go to the digest only).
Ladders = dict[Severity, Ladder]


def to_json(ladders: Ladders) -> dict[str, Any]:
    return {
        severity.value: {
            "levels": [
                {
                    "notify": list(level.notify),
                    "channels": list(level.channels),
                    "wait": _seconds(level.wait),
                }
                for level in ladder.levels
            ],
            "repeat_every": _seconds(ladder.repeat_every),
            "ack_timeout": _seconds(ladder.ack_timeout),
        }
        for severity, ladder in ladders.items()
    }


def from_json(data: dict[str, Any]) -> Ladders:
    return {
        Severity(name): Ladder(
            levels=tuple(
                Level(
                    notify=tuple(level["notify"]),
                    channels=tuple(level["channels"]),
                    wait=_delta(level["wait"]),
                )
                for level in ladder["levels"]
            ),
            repeat_every=_delta(ladder["repeat_every"]),
            ack_timeout=_delta(ladder["ack_timeout"]) or DEFAULT_ACK_TIMEOUT,
        )
        for name, ladder in data.items()
    }


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _delta(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)
