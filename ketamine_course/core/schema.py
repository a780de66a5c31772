"""Building blocks of every schema in the course: ids, a strict base model, a check for repeated ids."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Key = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
ItemId = Annotated[str, Field(pattern=r"^[a-z0-9]+(\.[a-z0-9_]+)+$")]
OptionId = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]


class Strict(BaseModel):
    """Base: unknown fields are errors, so a typo in YAML is caught by the schema test."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def find_by_id(entries, wanted: str, missing: str):
    """The entry whose `id` is `wanted`; KeyError(missing) when there is none."""
    for entry in entries:
        if entry.id == wanted:
            return entry
    raise KeyError(missing)


def require_known_objectives(entries, objectives, where: str) -> None:
    """Every entry has a unique id and belongs to one of the group's objectives."""
    require_unique([e.id for e in entries], where)
    known = {o.id for o in objectives}
    for entry in entries:
        if entry.objective not in known:
            raise ValueError(f"{entry.id}: unknown objective {entry.objective}")


def require_unique(ids, where):
    """Raise a schema error naming every id that appears more than once."""
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"{where}: duplicate ids {dupes}")
