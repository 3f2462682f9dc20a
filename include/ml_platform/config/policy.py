"""The promotion policy of a registered model, as its config states it (the gates themselves are code)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_platform.config.base import StrictModel

GateName = Literal[
    "validation",
    "floors",
    "ceilings",
    "primary_metric",
    "guardrails",
    "drift",
    "not_worse_than_champion",
    "better_than_base",
]
Direction = Literal["higher", "lower"]


class Guardrail(StrictModel):
    direction: Direction  # which way is better
    tolerance: float = Field(ge=0)


class PromotionPolicy(StrictModel):
    primary_metric: str
    min_improvement: float
    gates: tuple[GateName, ...]
    primary_direction: Direction = "higher"
    guardrails: dict[str, Guardrail] = Field(default_factory=dict)
    floors: dict[str, float] = Field(default_factory=dict)  # the challenger's metric must be >= its floor
    ceilings: dict[str, float] = Field(default_factory=dict)  # the challenger's metric must be <= its ceiling
    # Gates on 95% intervals of paired differences (the assistant's evaluation computes them): the challenger
    # must not be credibly worse than the champion, and must be credibly better than the base model.
    not_worse_than_champion: dict[str, Direction] = Field(default_factory=dict)
    better_than_base: dict[str, Direction] = Field(default_factory=dict)
