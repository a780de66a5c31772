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


def require_unique(ids, where):
    """Raise a schema error naming every id that appears more than once."""
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"{where}: duplicate ids {dupes}")
