"""``[rules.<rule id>]``: every threshold of ``shared/domain/RULES.md``, with its default.

Nothing here is written by hand. The sections, their keys, types and defaults are derived
from the pure rules' ``rules.policy`` dataclasses, so a threshold is declared once (issue 14):
a ``timedelta`` field becomes a duration key (``"30m"``, ``"4h"``; 0 allowed, as
``warning_before = "0s"`` means no early warning and ``warning_after = "0s"`` at arrival;
never negative or over 366 days), a ``time`` a time of day (``"22:00"``), an ``int`` a count
within the bounds its field declares, a ``bool`` a boolean. ``to_policy`` is the way back.

The model is made at import time, once, with pydantic's ``create_model``; mypy sees it as a
``BaseModel`` whose sections are read by name (``section``), which is all the code does."""

from __future__ import annotations

import dataclasses
import typing
from datetime import time, timedelta, tzinfo
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from custody_watch.config.types import DurationOrZero, TimeOfDay
from custody_watch.rules import policy as p


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


def _key_type(owner: str, f: dataclasses.Field[Any], hint: Any) -> Any:
    """The config type of one threshold field."""
    if hint is timedelta:
        return DurationOrZero
    if hint is time:
        return TimeOfDay
    if hint is bool:
        return bool
    if hint is int:
        if p.BOUNDS not in f.metadata:
            # A count with no bounds would let a config say 0 or a billion: refuse to start.
            raise TypeError(f"{owner}.{f.name}: an int threshold must declare its bounds")
        low, high = f.metadata[p.BOUNDS]
        return Annotated[int, Field(ge=low, le=high)]
    raise TypeError(f"{owner}.{f.name}: no config type for {hint!r}")


def _python_name(key: str) -> str:
    """``raise`` is a Python keyword: its field is ``raise_`` with the alias ``raise``."""
    return f"{key}_" if key in {"raise", "from", "class", "import"} else key


def section_model(name: str, threshold: type[Any]) -> type[BaseModel]:
    """One ``[rules.<name>]`` section from one threshold dataclass."""
    hints = typing.get_type_hints(threshold)
    keys: dict[str, Any] = {
        f.name: (_key_type(threshold.__name__, f, hints[f.name]), f.default)
        for f in dataclasses.fields(threshold)
    }
    return create_model(_model_name(name), __base__=_Strict, **keys)


def _flag_sections() -> dict[str, dict[str, tuple[str, Any]]]:
    """Sections made of flat ``Policy`` fields: section -> {key: (policy field, hint)}."""
    hints = typing.get_type_hints(p.Policy)
    sections: dict[str, dict[str, tuple[str, Any]]] = {}
    for f in dataclasses.fields(p.Policy):
        if p.CONFIG_KEY in f.metadata:
            section, key = f.metadata[p.CONFIG_KEY]
            sections.setdefault(section, {})[key] = (f.name, hints[f.name])
    return sections


def _flag_model(name: str, keys: dict[str, tuple[str, Any]]) -> type[BaseModel]:
    by_field = {f.name: f for f in dataclasses.fields(p.Policy)}
    fields: dict[str, Any] = {}
    for key, (policy_field, hint) in keys.items():
        f = by_field[policy_field]
        fields[_python_name(key)] = (
            _key_type("Policy", f, hint),
            Field(default=f.default, alias=key) if _python_name(key) != key else f.default,
        )
    return create_model(_model_name(name), __base__=_Strict, **fields)


def _model_name(section: str) -> str:
    return "".join(part.title() for part in section.split("_")) + "Rule"


def _threshold_sections() -> dict[str, type[Any]]:
    """``Policy`` fields whose type is a threshold dataclass: section name -> dataclass."""
    hints = typing.get_type_hints(p.Policy)
    return {
        f.name: hints[f.name]
        for f in dataclasses.fields(p.Policy)
        if dataclasses.is_dataclass(hints[f.name])
    }


THRESHOLDS = _threshold_sections()
FLAGS = _flag_sections()


def _rules_model() -> type[BaseModel]:
    sections: dict[str, Any] = {}
    for name, threshold in THRESHOLDS.items():
        model = section_model(name, threshold)
        sections[name] = (model, Field(default_factory=model))
    for name, keys in FLAGS.items():
        model = _flag_model(name, keys)
        sections[name] = (model, Field(default_factory=model))
    return create_model("RulesSettings", __base__=_Strict, **sections)


if TYPE_CHECKING:
    # What mypy needs to know: a frozen model read by section name.
    class RulesSettings(_Strict):
        def __getattr__(self, name: str) -> Any: ...
else:
    RulesSettings = _rules_model()


def to_policy(rules: BaseModel, people: p.People, zone: tzinfo) -> p.Policy:
    """The pure rules' ``Policy`` from the ``[rules]`` settings (field for field, by name)."""
    values: dict[str, Any] = {"people": people, "zone": zone}
    for name, threshold in THRESHOLDS.items():
        section = getattr(rules, name)
        values[name] = threshold(
            **{f.name: getattr(section, f.name) for f in dataclasses.fields(threshold)}
        )
    for name, keys in FLAGS.items():
        section = getattr(rules, name)
        for key, (policy_field, _hint) in keys.items():
            values[policy_field] = getattr(section, _python_name(key))
    return p.Policy(**values)
