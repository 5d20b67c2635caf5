"""Request validation with pydantic, reported as INVALID_ARGUMENT field violations."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from platform_grpc.errors import InvalidArgument

ModelT = TypeVar("ModelT", bound=BaseModel)


def validated(model: type[ModelT], data: dict[str, Any], *, field_prefix: str = "") -> ModelT:
    """Build `model` from `data`, or raise `InvalidArgument` naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        violations: dict[str, str] = {}
        for err in exc.errors(include_url=False):
            path = ".".join(str(p) for p in err["loc"])
            name = f"{field_prefix}{path}" if path else field_prefix.rstrip(".") or "request"
            violations[name] = err["msg"]
        raise InvalidArgument(violations) from exc
