"""What an answer cost: the engine's token counts priced by a per-model table in configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from collections.abc import Mapping


class ModelPrice(BaseModel):
    """USD per million tokens of one model; local models cost 0 unless configured."""

    model_config = ConfigDict(frozen=True)

    input_per_1m: float = Field(0.0, ge=0, description="USD per 1M prompt tokens.")
    output_per_1m: float = Field(0.0, ge=0, description="USD per 1M completion tokens.")


def cost_usd(
    prices: Mapping[str, ModelPrice], model: str, *, prompt_tokens: int, completion_tokens: int
) -> float:
    """The price of one answer; 0 for a model without a price."""
    price = prices.get(model)
    if price is None:
        return 0.0
    total = prompt_tokens * price.input_per_1m + completion_tokens * price.output_per_1m
    return round(total / 1_000_000, 9)
