"""Request validation with pydantic, reported as INVALID_ARGUMENT field violations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from platform_grpc.errors import InvalidArgument
from platform_logging import clip

if TYPE_CHECKING:
    from collections.abc import Mapping

ModelT = TypeVar("ModelT", bound=BaseModel)

#: Where the caller's identity sits in every request: `principal`.
PRINCIPAL_FIELDS = {
    "tenant": "principal.tenant",
    "user_id": "principal.user_id",
    "groups": "principal.groups",
}


def validated(
    model: type[ModelT],
    data: dict[str, Any],
    *,
    field_prefix: str = "",
    request_fields: Mapping[str, str] | None = None,
) -> ModelT:
    """Build `model` from `data`, or raise `InvalidArgument` naming every bad field.

    Violations name the fields of the caller's request, not of our model:
    `request_fields` maps a model field to its request path (e.g. "tenant" ->
    "principal.tenant"); other fields get `field_prefix` prepended.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        violations: dict[str, str] = {}
        for err in exc.errors(include_url=False):
            violations[_request_path(err["loc"], field_prefix, request_fields or {})] = err["msg"]
        raise InvalidArgument(violations) from exc


def _request_path(loc: tuple[Any, ...], prefix: str, request_fields: Mapping[str, str]) -> str:
    if not loc:
        return prefix.rstrip(".") or "request"
    # A part can be caller input (a map key of any length): quote a prefix of it.
    head, *rest = (clip(str(part)) for part in loc)
    head = request_fields.get(head, f"{prefix}{head}")
    return ".".join([head, *rest])
