"""Finding, reading and checking the config file. Every error names the file and the key."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from custody_watch.config.locate import config_path, defaults_apply
from custody_watch.config.model import Settings
from custody_watch.errors import ConfigError

# Roles every force has. Naming one with nobody in the rota is not a typo but a gap, which
# the daemon reports at run time ("nobody on call") rather than refusing to start.
STANDARD_ROLES = frozenset({"duty_inspector", "superintendent", "operations"})


def load_settings(named: Path | None = None) -> Settings:
    """Read the config; the built-in defaults apply when none is named and the default file
    does not exist."""
    if defaults_apply(named):
        return Settings()
    return read_settings(config_path(named)[0])


def read_settings(path: Path) -> Settings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_settings(data, origin=str(path))


def parse_settings(data: dict[str, object], origin: str = "config") -> Settings:
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {_first_error(exc)}") from None
    problems = list(reference_problems(settings))
    if problems:
        raise ConfigError(f"{origin}: {problems[0]}")
    return settings


def reference_problems(settings: Settings) -> Iterator[str]:
    """Names that point at nothing: people, roles, channels, duplicate names."""
    people = {person.id for person in settings.people}
    yield from _duplicates("people", [person.id for person in settings.people])
    yield from _duplicates("sources", [source.name for source in settings.sources])
    roles = {entry.role for entry in settings.rota}
    for i, entry in enumerate(settings.rota):
        if entry.person not in people:
            yield f"rota[{i}].person: no person with id {entry.person!r}"
    for severity, policy in settings.escalation.items():
        for j, level in enumerate(policy.levels):
            key = f"escalation.{severity}.levels[{j}]"
            for role in level.notify:
                if role not in roles | STANDARD_ROLES and role not in people:
                    yield f"{key}.notify: {role!r} is neither a rota role nor a person"
            for channel in level.channels:
                if channel not in settings.channels:
                    yield f"{key}.channels: no channel named {channel!r}"
    for recipient in settings.digest.recipients:
        if recipient not in people:
            yield f"digest.recipients: no person with id {recipient!r}"
    for channel in settings.digest.channels:
        if channel not in settings.channels:
            yield f"digest.channels: no channel named {channel!r}"


def _duplicates(key: str, names: list[str]) -> Iterator[str]:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            yield f"{key}[{i}]: {name!r} is given twice"
        seen.add(name)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = _location(error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    if error["type"] == "missing":
        return f"{where}: required key missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
        elif item in {"FolderSource", "SqlSource", "HttpJsonSource", "SimulatorSource"}:
            continue
        elif item in {"csv_folder", "jsonl", "sql", "http_json", "simulator"} and parts:
            continue  # the discriminator's tag, not a key the user wrote
        elif item in {"console", "twilio", "smtp"} and len(parts) >= 2:
            continue
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"
