"""A daemon on a drop folder, a SQLite file and the console, driven through the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from custody_watch.cli import main

# People, rota and escalation ladders like the shared example config's (a str.format
# template: braces doubled). Shared with the web tests.
ROTA = """[[people]]
id = "insp-a"
name = "Insp. A. Example"
phone = "+447700900001"

[[people]]
id = "supt-b"
name = "Supt. B. Example"
phone = "+447700900002"

[[people]]
id = "ops"
name = "Force control room"
phone = "+447700900003"

[[rota]]
role = "duty_inspector"
person = "insp-a"

[[rota]]
role = "superintendent"
person = "supt-b"

[[rota]]
role = "operations"
person = "ops"

[escalation.warning]
levels = [{{ notify = ["duty_inspector"], channels = ["sms"] }}]

[escalation.high]
levels = [
  {{ notify = ["duty_inspector"], channels = ["sms"], wait = "15m" }},
  {{ notify = ["superintendent"], channels = ["sms"], wait = "30m" }},
]
repeat_every = "30m"

[escalation.critical]
levels = [
  {{ notify = ["duty_inspector"], channels = ["sms"], wait = "10m" }},
  {{ notify = ["duty_inspector", "superintendent"], channels = ["sms"], wait = "15m" }},
]
repeat_every = "15m"
"""

CONFIG = (
    """
timezone = "Europe/London"

[database]
url = "{database}"

[web]
listen = "127.0.0.1:0"
public_base_url = "http://127.0.0.1:8080"

[[sources]]
name = "suite-a"
kind = "csv_folder"
path = "{inbox}"
poll_every = "1m"
stale_after = "15m"

[channels.console]
kind = "console"

[channels.sms]
kind = "twilio"
account_sid = "AC00000000000000000000000000000000"
from_number = "+447700900000"

"""
    + ROTA
)

HEADER = (
    "custody_ref,suite,arrival_time,date_of_birth,legal_basis,reviews,"
    "appropriate_adult_requested_time,appropriate_adult_arrived_time,released_time,updated_at,"
    "person_ref\n"
)


@dataclass
class Daemon:
    """Runs custody-watch commands in-process against one config."""

    config: Path
    inbox: Path
    capsys: pytest.CaptureFixture[str]

    def cli(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            main([*args, "--config", str(self.config)])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def run_once(self, now: str) -> str:
        code, out, err = self.cli("run", "--once", "--now", now)
        assert code == 0, err
        return out

    def json(self, *args: str) -> dict[str, Any]:
        code, out, err = self.cli(*args, "--format", "json")
        assert code == 0, err
        result: dict[str, Any] = json.loads(out)
        return result

    def alerts(self, *extra: str) -> list[dict[str, Any]]:
        return list(self.json("alerts", *extra)["alerts"])

    def drop(self, name: str, rows: str) -> None:
        """Write a file the way a well-behaved writer does: elsewhere, then rename."""
        partial = self.inbox / f".{name}.partial"
        partial.write_text(HEADER + rows, encoding="utf-8")
        partial.rename(self.inbox / name)
