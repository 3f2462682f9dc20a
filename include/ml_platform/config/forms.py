"""Fields of a manual run's trigger form, as config: the wiring turns each into an Airflow Param."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_platform.config.base import StrictModel


class FormField(StrictModel):
    """A JSON-schema bound on one value a manual run may set (None leaves that side open)."""

    model_config = StrictModel.model_config | {"populate_by_name": True}

    type: Literal["integer", "number"]
    minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_minimum: int | float | None = Field(default=None, alias="exclusiveMinimum")
    description: str = ""

    def json_schema(self) -> dict[str, object]:
        """The JSON-schema keywords of this bound (for Airflow's Param), without empty ones."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude={"description"})
