"""Ask's typed filters travel to retrieval unchanged and take part in the answer cache key."""

from __future__ import annotations

from google.protobuf.json_format import MessageToDict

from contracts.rpc import common_pb2
from generation_service.core import AskInput
from generation_service.core.cache_key import answer_cache_key

YEAR_RANGE = common_pb2.MetadataFilter(
    field="metadata.year", range=common_pb2.NumberRange(gte=2021, lte=2023)
)


def _ask(*typed: common_pb2.MetadataFilter) -> AskInput:
    return AskInput(
        tenant="acme",
        question="What is the hotel cap?",
        top_k=5,
        prompt_version="production",
        typed_filters=[MessageToDict(f, preserving_proto_field_name=True) for f in typed],
    )


def test_typed_filters_round_trip_to_the_retrieval_messages() -> None:
    any_of = common_pb2.MetadataFilter(
        field="source", any_of=common_pb2.StringList(values=["wiki"])
    )
    assert _ask(YEAR_RANGE, any_of).metadata_filters() == [YEAR_RANGE, any_of]


def test_typed_filters_change_the_cache_key_only_when_sent() -> None:
    plain = answer_cache_key(_ask())
    assert plain == answer_cache_key(_ask().model_copy(update={"typed_filters": ()}))
    narrowed = answer_cache_key(_ask(YEAR_RANGE))
    assert narrowed != plain
    other = common_pb2.MetadataFilter(field="metadata.year", range=common_pb2.NumberRange(gte=2022))
    assert answer_cache_key(_ask(other)) != narrowed
