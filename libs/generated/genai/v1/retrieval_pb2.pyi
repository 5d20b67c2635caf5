from genai.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FusionMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FUSION_METHOD_UNSPECIFIED: _ClassVar[FusionMethod]
    FUSION_METHOD_RRF: _ClassVar[FusionMethod]
    FUSION_METHOD_DENSE_ONLY: _ClassVar[FusionMethod]
    FUSION_METHOD_SPARSE_ONLY: _ClassVar[FusionMethod]
    FUSION_METHOD_DBSF: _ClassVar[FusionMethod]

class RerankMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RERANK_MODE_UNSPECIFIED: _ClassVar[RerankMode]
    RERANK_MODE_ON: _ClassVar[RerankMode]
    RERANK_MODE_OFF: _ClassVar[RerankMode]

class RerankOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RERANK_OUTCOME_UNSPECIFIED: _ClassVar[RerankOutcome]
    RERANK_OUTCOME_APPLIED: _ClassVar[RerankOutcome]
    RERANK_OUTCOME_FALLBACK: _ClassVar[RerankOutcome]
FUSION_METHOD_UNSPECIFIED: FusionMethod
FUSION_METHOD_RRF: FusionMethod
FUSION_METHOD_DENSE_ONLY: FusionMethod
FUSION_METHOD_SPARSE_ONLY: FusionMethod
FUSION_METHOD_DBSF: FusionMethod
RERANK_MODE_UNSPECIFIED: RerankMode
RERANK_MODE_ON: RerankMode
RERANK_MODE_OFF: RerankMode
RERANK_OUTCOME_UNSPECIFIED: RerankOutcome
RERANK_OUTCOME_APPLIED: RerankOutcome
RERANK_OUTCOME_FALLBACK: RerankOutcome

class RetrieveRequest(_message.Message):
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
    fusion: FusionMethod
    dense_weight: float
    typed_filters: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataFilter]
    facet_fields: _containers.RepeatedScalarFieldContainer[str]
    facet_limit: int
    rerank: RerankMode
    def __init__(self, principal: _Optional[_Union[_common_pb2.Principal, _Mapping]] = ..., query: _Optional[str] = ..., top_k: _Optional[int] = ..., filters: _Optional[_Mapping[str, str]] = ..., fusion: _Optional[_Union[FusionMethod, str]] = ..., dense_weight: _Optional[float] = ..., typed_filters: _Optional[_Iterable[_Union[_common_pb2.MetadataFilter, _Mapping]]] = ..., facet_fields: _Optional[_Iterable[str]] = ..., facet_limit: _Optional[int] = ..., rerank: _Optional[_Union[RerankMode, str]] = ...) -> None: ...

class RetrieveResponse(_message.Message):
    __slots__ = ("passages", "facets", "rerank")
    PASSAGES_FIELD_NUMBER: _ClassVar[int]
    FACETS_FIELD_NUMBER: _ClassVar[int]
    RERANK_FIELD_NUMBER: _ClassVar[int]
    passages: _containers.RepeatedCompositeFieldContainer[_common_pb2.Passage]
    facets: _containers.RepeatedCompositeFieldContainer[_common_pb2.Facet]
    rerank: RerankOutcome
    def __init__(self, passages: _Optional[_Iterable[_Union[_common_pb2.Passage, _Mapping]]] = ..., facets: _Optional[_Iterable[_Union[_common_pb2.Facet, _Mapping]]] = ..., rerank: _Optional[_Union[RerankOutcome, str]] = ...) -> None: ...

class LookupVectorsRequest(_message.Message):
    __slots__ = ("tenant", "content_hashes")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASHES_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    content_hashes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tenant: _Optional[str] = ..., content_hashes: _Optional[_Iterable[str]] = ...) -> None: ...

class StoredVector(_message.Message):
    __slots__ = ("content_hash", "vector")
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    content_hash: str
    vector: bytes
    def __init__(self, content_hash: _Optional[str] = ..., vector: _Optional[bytes] = ...) -> None: ...

class LookupVectorsResponse(_message.Message):
    __slots__ = ("vectors",)
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    vectors: _containers.RepeatedCompositeFieldContainer[StoredVector]
    def __init__(self, vectors: _Optional[_Iterable[_Union[StoredVector, _Mapping]]] = ...) -> None: ...

class GetChunkRequest(_message.Message):
    __slots__ = ("principal", "chunk_id")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    principal: _common_pb2.Principal
    chunk_id: str
    def __init__(self, principal: _Optional[_Union[_common_pb2.Principal, _Mapping]] = ..., chunk_id: _Optional[str] = ...) -> None: ...

class GetChunkResponse(_message.Message):
    __slots__ = ("passage", "previous", "next")
    PASSAGE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    passage: _common_pb2.Passage
    previous: _common_pb2.Passage
    next: _common_pb2.Passage
    def __init__(self, passage: _Optional[_Union[_common_pb2.Passage, _Mapping]] = ..., previous: _Optional[_Union[_common_pb2.Passage, _Mapping]] = ..., next: _Optional[_Union[_common_pb2.Passage, _Mapping]] = ...) -> None: ...
