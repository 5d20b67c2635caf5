"""Every status fits in gRPC trailers, whatever the caller sent."""

from __future__ import annotations

from pydantic import BaseModel

from platform_grpc import InvalidArgument, validated
from platform_grpc.errors import MAX_MESSAGE_BYTES, MAX_VIOLATION_BYTES, MAX_VIOLATIONS


class _Filters(BaseModel):
    filters: dict[str, int]


def test_a_huge_map_key_is_quoted_by_a_prefix_in_the_field_path() -> None:
    try:
        validated(_Filters, {"filters": {"k" * 10_000: "nan"}})
    except InvalidArgument as exc:
        (field,) = exc.violations
        assert field == "filters." + "k" * 64 + "…(10000 chars)"
        assert len(str(exc)) < 200
    else:
        raise AssertionError("expected InvalidArgument")


def test_violations_are_capped_in_number_and_bytes_and_the_rest_counted() -> None:
    many = InvalidArgument({f"groups.{i}": "bad" for i in range(300)})
    assert len(many.violations) == MAX_VIOLATIONS and many.omitted == 280
    assert str(many).endswith("more violations")
    wide = InvalidArgument({"€" * 1000 + str(i): "€" * 1000 for i in range(30)})
    size = sum(len(f.encode()) + len(r.encode()) for f, r in wide.violations.items())
    assert size <= MAX_VIOLATION_BYTES and len(str(wide).encode()) <= MAX_MESSAGE_BYTES
    assert wide.omitted == 30 - len(wide.violations) > 0
