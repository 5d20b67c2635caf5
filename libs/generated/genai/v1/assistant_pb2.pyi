from genai.v1 import common_pb2 as _common_pb2
from genai.v1 import retrieval_pb2 as _retrieval_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CacheResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CACHE_RESULT_UNSPECIFIED: _ClassVar[CacheResult]
    CACHE_RESULT_MISS: _ClassVar[CacheResult]
    CACHE_RESULT_EXACT_HIT: _ClassVar[CacheResult]
    CACHE_RESULT_SEMANTIC_HIT: _ClassVar[CacheResult]
    CACHE_RESULT_SKIPPED: _ClassVar[CacheResult]

class Rating(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RATING_UNSPECIFIED: _ClassVar[Rating]
    RATING_THUMBS_UP: _ClassVar[Rating]
    RATING_THUMBS_DOWN: _ClassVar[Rating]
CACHE_RESULT_UNSPECIFIED: CacheResult
CACHE_RESULT_MISS: CacheResult
CACHE_RESULT_EXACT_HIT: CacheResult
CACHE_RESULT_SEMANTIC_HIT: CacheResult
CACHE_RESULT_SKIPPED: CacheResult
RATING_UNSPECIFIED: Rating
RATING_THUMBS_UP: Rating
RATING_THUMBS_DOWN: Rating

class AskRequest(_message.Message):
    __slots__ = ("principal", "question", "top_k", "filters", "bypass_cache", "prompt_version", "route", "fusion", "dense_weight", "user_context", "typed_filters", "budget", "rerank")
    class FiltersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    BYPASS_CACHE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_VERSION_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    FUSION_FIELD_NUMBER: _ClassVar[int]
    DENSE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    USER_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TYPED_FILTERS_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    RERANK_FIELD_NUMBER: _ClassVar[int]
    principal: _common_pb2.Principal
    question: str
    top_k: int
    filters: _containers.ScalarMap[str, str]
    bypass_cache: bool
    prompt_version: str
    route: str
    fusion: _retrieval_pb2.FusionMethod
    dense_weight: float
    user_context: UserContext
    typed_filters: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataFilter]
    budget: AnswerBudget
    rerank: _retrieval_pb2.RerankMode
    def __init__(self, principal: _Optional[_Union[_common_pb2.Principal, _Mapping]] = ..., question: _Optional[str] = ..., top_k: _Optional[int] = ..., filters: _Optional[_Mapping[str, str]] = ..., bypass_cache: _Optional[bool] = ..., prompt_version: _Optional[str] = ..., route: _Optional[str] = ..., fusion: _Optional[_Union[_retrieval_pb2.FusionMethod, str]] = ..., dense_weight: _Optional[float] = ..., user_context: _Optional[_Union[UserContext, _Mapping]] = ..., typed_filters: _Optional[_Iterable[_Union[_common_pb2.MetadataFilter, _Mapping]]] = ..., budget: _Optional[_Union[AnswerBudget, _Mapping]] = ..., rerank: _Optional[_Union[_retrieval_pb2.RerankMode, str]] = ...) -> None: ...

class AnswerBudget(_message.Message):
    __slots__ = ("max_cost_usd", "max_latency_ms")
    MAX_COST_USD_FIELD_NUMBER: _ClassVar[int]
    MAX_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    max_cost_usd: float
    max_latency_ms: int
    def __init__(self, max_cost_usd: _Optional[float] = ..., max_latency_ms: _Optional[int] = ...) -> None: ...

class UserContext(_message.Message):
    __slots__ = ("current_page", "recent_turns", "locale")
    CURRENT_PAGE_FIELD_NUMBER: _ClassVar[int]
    RECENT_TURNS_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    current_page: str
    recent_turns: _containers.RepeatedCompositeFieldContainer[Turn]
    locale: str
    def __init__(self, current_page: _Optional[str] = ..., recent_turns: _Optional[_Iterable[_Union[Turn, _Mapping]]] = ..., locale: _Optional[str] = ...) -> None: ...

class Turn(_message.Message):
    __slots__ = ("role", "text")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    role: str
    text: str
    def __init__(self, role: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class AskResponse(_message.Message):
    __slots__ = ("answer_id", "answer", "citations", "cached", "usage", "timings", "trace_id", "guardrail_flags", "prompt_version", "route", "route_reason", "retracted", "cache")
    ANSWER_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    GUARDRAIL_FLAGS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_VERSION_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    ROUTE_REASON_FIELD_NUMBER: _ClassVar[int]
    RETRACTED_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    answer_id: str
    answer: str
    citations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Citation]
    cached: bool
    usage: _common_pb2.Usage
    timings: _common_pb2.Timings
    trace_id: str
    guardrail_flags: _containers.RepeatedScalarFieldContainer[str]
    prompt_version: str
    route: str
    route_reason: str
    retracted: bool
    cache: CacheOutcome
    def __init__(self, answer_id: _Optional[str] = ..., answer: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[_common_pb2.Citation, _Mapping]]] = ..., cached: _Optional[bool] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ..., timings: _Optional[_Union[_common_pb2.Timings, _Mapping]] = ..., trace_id: _Optional[str] = ..., guardrail_flags: _Optional[_Iterable[str]] = ..., prompt_version: _Optional[str] = ..., route: _Optional[str] = ..., route_reason: _Optional[str] = ..., retracted: _Optional[bool] = ..., cache: _Optional[_Union[CacheOutcome, _Mapping]] = ...) -> None: ...

class AnswerCost(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "cost_usd", "ms")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    MS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    ms: float
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cost_usd: _Optional[float] = ..., ms: _Optional[float] = ...) -> None: ...

class CacheOutcome(_message.Message):
    __slots__ = ("result", "similarity", "spent", "saved", "semantic_skipped")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    SPENT_FIELD_NUMBER: _ClassVar[int]
    SAVED_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    result: CacheResult
    similarity: float
    spent: AnswerCost
    saved: AnswerCost
    semantic_skipped: str
    def __init__(self, result: _Optional[_Union[CacheResult, str]] = ..., similarity: _Optional[float] = ..., spent: _Optional[_Union[AnswerCost, _Mapping]] = ..., saved: _Optional[_Union[AnswerCost, _Mapping]] = ..., semantic_skipped: _Optional[str] = ...) -> None: ...

class AskStreamEvent(_message.Message):
    __slots__ = ("delta", "completed")
    DELTA_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    delta: str
    completed: AskResponse
    def __init__(self, delta: _Optional[str] = ..., completed: _Optional[_Union[AskResponse, _Mapping]] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("principal", "query", "top_k", "filters", "fusion", "dense_weight", "typed_filters", "facet_fields", "facet_limit", "rerank")
    class FiltersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    FUSION_FIELD_NUMBER: _ClassVar[int]
    DENSE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    TYPED_FILTERS_FIELD_NUMBER: _ClassVar[int]
    FACET_FIELDS_FIELD_NUMBER: _ClassVar[int]
    FACET_LIMIT_FIELD_NUMBER: _ClassVar[int]
    RERANK_FIELD_NUMBER: _ClassVar[int]
    principal: _common_pb2.Principal
    query: str
    top_k: int
    filters: _containers.ScalarMap[str, str]
    fusion: _retrieval_pb2.FusionMethod
    dense_weight: float
    typed_filters: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataFilter]
    facet_fields: _containers.RepeatedScalarFieldContainer[str]
    facet_limit: int
    rerank: _retrieval_pb2.RerankMode
    def __init__(self, principal: _Optional[_Union[_common_pb2.Principal, _Mapping]] = ..., query: _Optional[str] = ..., top_k: _Optional[int] = ..., filters: _Optional[_Mapping[str, str]] = ..., fusion: _Optional[_Union[_retrieval_pb2.FusionMethod, str]] = ..., dense_weight: _Optional[float] = ..., typed_filters: _Optional[_Iterable[_Union[_common_pb2.MetadataFilter, _Mapping]]] = ..., facet_fields: _Optional[_Iterable[str]] = ..., facet_limit: _Optional[int] = ..., rerank: _Optional[_Union[_retrieval_pb2.RerankMode, str]] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("passages", "trace_id", "facets", "rerank")
    PASSAGES_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    FACETS_FIELD_NUMBER: _ClassVar[int]
    RERANK_FIELD_NUMBER: _ClassVar[int]
    passages: _containers.RepeatedCompositeFieldContainer[_common_pb2.Passage]
    trace_id: str
    facets: _containers.RepeatedCompositeFieldContainer[_common_pb2.Facet]
    rerank: _retrieval_pb2.RerankOutcome
    def __init__(self, passages: _Optional[_Iterable[_Union[_common_pb2.Passage, _Mapping]]] = ..., trace_id: _Optional[str] = ..., facets: _Optional[_Iterable[_Union[_common_pb2.Facet, _Mapping]]] = ..., rerank: _Optional[_Union[_retrieval_pb2.RerankOutcome, str]] = ...) -> None: ...

class SubmitFeedbackRequest(_message.Message):
    __slots__ = ("principal", "answer_id", "rating", "comment", "useful_chunk_ids")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    ANSWER_ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    USEFUL_CHUNK_IDS_FIELD_NUMBER: _ClassVar[int]
    principal: _common_pb2.Principal
    answer_id: str
    rating: Rating
    comment: str
    useful_chunk_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, principal: _Optional[_Union[_common_pb2.Principal, _Mapping]] = ..., answer_id: _Optional[str] = ..., rating: _Optional[_Union[Rating, str]] = ..., comment: _Optional[str] = ..., useful_chunk_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SubmitFeedbackResponse(_message.Message):
    __slots__ = ("feedback_id",)
    FEEDBACK_ID_FIELD_NUMBER: _ClassVar[int]
    feedback_id: str
    def __init__(self, feedback_id: _Optional[str] = ...) -> None: ...

class ListPromptsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PromptInfo(_message.Message):
    __slots__ = ("version", "labels", "engine", "model", "description")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    version: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    engine: str
    model: str
    description: str
    def __init__(self, version: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., engine: _Optional[str] = ..., model: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ListPromptsResponse(_message.Message):
    __slots__ = ("prompts",)
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    prompts: _containers.RepeatedCompositeFieldContainer[PromptInfo]
    def __init__(self, prompts: _Optional[_Iterable[_Union[PromptInfo, _Mapping]]] = ...) -> None: ...

class GetPassageRequest(_message.Message):
    __slots__ = ("principal", "chunk_id")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    principal: _common_pb2.Principal
    chunk_id: str
    def __init__(self, principal: _Optional[_Union[_common_pb2.Principal, _Mapping]] = ..., chunk_id: _Optional[str] = ...) -> None: ...

class GetPassageResponse(_message.Message):
    __slots__ = ("passage", "previous", "next")
    PASSAGE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    passage: _common_pb2.Passage
    previous: _common_pb2.Passage
    next: _common_pb2.Passage
    def __init__(self, passage: _Optional[_Union[_common_pb2.Passage, _Mapping]] = ..., previous: _Optional[_Union[_common_pb2.Passage, _Mapping]] = ..., next: _Optional[_Union[_common_pb2.Passage, _Mapping]] = ...) -> None: ...
