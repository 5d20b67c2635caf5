from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Principal(_message.Message):
    __slots__ = ("tenant", "user_id", "groups")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    user_id: str
    groups: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tenant: _Optional[str] = ..., user_id: _Optional[str] = ..., groups: _Optional[_Iterable[str]] = ...) -> None: ...

class Passage(_message.Message):
    __slots__ = ("chunk_id", "document_id", "title", "source", "text", "chunk_index", "score", "document_version", "metadata", "heading", "page", "start", "end", "fused_score")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    HEADING_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    FUSED_SCORE_FIELD_NUMBER: _ClassVar[int]
    chunk_id: str
    document_id: str
    title: str
    source: str
    text: str
    chunk_index: int
    score: float
    document_version: int
    metadata: _containers.ScalarMap[str, str]
    heading: str
    page: int
    start: int
    end: int
    fused_score: float
    def __init__(self, chunk_id: _Optional[str] = ..., document_id: _Optional[str] = ..., title: _Optional[str] = ..., source: _Optional[str] = ..., text: _Optional[str] = ..., chunk_index: _Optional[int] = ..., score: _Optional[float] = ..., document_version: _Optional[int] = ..., metadata: _Optional[_Mapping[str, str]] = ..., heading: _Optional[str] = ..., page: _Optional[int] = ..., start: _Optional[int] = ..., end: _Optional[int] = ..., fused_score: _Optional[float] = ...) -> None: ...

class Citation(_message.Message):
    __slots__ = ("marker", "chunk_id", "document_id", "title", "source", "snippet", "heading", "page", "start", "end")
    MARKER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    HEADING_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    marker: int
    chunk_id: str
    document_id: str
    title: str
    source: str
    snippet: str
    heading: str
    page: int
    start: int
    end: int
    def __init__(self, marker: _Optional[int] = ..., chunk_id: _Optional[str] = ..., document_id: _Optional[str] = ..., title: _Optional[str] = ..., source: _Optional[str] = ..., snippet: _Optional[str] = ..., heading: _Optional[str] = ..., page: _Optional[int] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "cost_usd", "model")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    model: str
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cost_usd: _Optional[float] = ..., model: _Optional[str] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("guardrail_input_ms", "retrieval_ms", "generation_ms", "guardrail_output_ms", "total_ms", "time_to_first_token_ms", "before_model_ms")
    GUARDRAIL_INPUT_MS_FIELD_NUMBER: _ClassVar[int]
    RETRIEVAL_MS_FIELD_NUMBER: _ClassVar[int]
    GENERATION_MS_FIELD_NUMBER: _ClassVar[int]
    GUARDRAIL_OUTPUT_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_FIRST_TOKEN_MS_FIELD_NUMBER: _ClassVar[int]
    BEFORE_MODEL_MS_FIELD_NUMBER: _ClassVar[int]
    guardrail_input_ms: float
    retrieval_ms: float
    generation_ms: float
    guardrail_output_ms: float
    total_ms: float
    time_to_first_token_ms: float
    before_model_ms: float
    def __init__(self, guardrail_input_ms: _Optional[float] = ..., retrieval_ms: _Optional[float] = ..., generation_ms: _Optional[float] = ..., guardrail_output_ms: _Optional[float] = ..., total_ms: _Optional[float] = ..., time_to_first_token_ms: _Optional[float] = ..., before_model_ms: _Optional[float] = ...) -> None: ...

class MetadataFilter(_message.Message):
    __slots__ = ("field", "equals", "any_of", "range", "date_range")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    EQUALS_FIELD_NUMBER: _ClassVar[int]
    ANY_OF_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    DATE_RANGE_FIELD_NUMBER: _ClassVar[int]
    field: str
    equals: str
    any_of: StringList
    range: NumberRange
    date_range: DateRange
    def __init__(self, field: _Optional[str] = ..., equals: _Optional[str] = ..., any_of: _Optional[_Union[StringList, _Mapping]] = ..., range: _Optional[_Union[NumberRange, _Mapping]] = ..., date_range: _Optional[_Union[DateRange, _Mapping]] = ...) -> None: ...

class StringList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class NumberRange(_message.Message):
    __slots__ = ("gte", "lte")
    GTE_FIELD_NUMBER: _ClassVar[int]
    LTE_FIELD_NUMBER: _ClassVar[int]
    gte: float
    lte: float
    def __init__(self, gte: _Optional[float] = ..., lte: _Optional[float] = ...) -> None: ...

class DateRange(_message.Message):
    __slots__ = ("gte", "lte")
    GTE_FIELD_NUMBER: _ClassVar[int]
    LTE_FIELD_NUMBER: _ClassVar[int]
    gte: str
    lte: str
    def __init__(self, gte: _Optional[str] = ..., lte: _Optional[str] = ...) -> None: ...

class Facet(_message.Message):
    __slots__ = ("field", "values")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    field: str
    values: _containers.RepeatedCompositeFieldContainer[FacetValue]
    def __init__(self, field: _Optional[str] = ..., values: _Optional[_Iterable[_Union[FacetValue, _Mapping]]] = ...) -> None: ...

class FacetValue(_message.Message):
    __slots__ = ("value", "count")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    value: str
    count: int
    def __init__(self, value: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...
