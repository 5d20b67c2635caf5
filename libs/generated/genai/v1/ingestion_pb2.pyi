from genai.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Document(_message.Message):
    __slots__ = ("id", "title", "source", "text", "media_type", "metadata", "access_groups", "version", "content")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ACCESS_GROUPS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    source: str
    text: str
    media_type: str
    metadata: _containers.ScalarMap[str, str]
    access_groups: _containers.RepeatedScalarFieldContainer[str]
    version: int
    content: bytes
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., source: _Optional[str] = ..., text: _Optional[str] = ..., media_type: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., access_groups: _Optional[_Iterable[str]] = ..., version: _Optional[int] = ..., content: _Optional[bytes] = ...) -> None: ...

class SubmitDocumentRequest(_message.Message):
    __slots__ = ("principal", "document")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    principal: _common_pb2.Principal
    document: Document
    def __init__(self, principal: _Optional[_Union[_common_pb2.Principal, _Mapping]] = ..., document: _Optional[_Union[Document, _Mapping]] = ...) -> None: ...

class DeleteDocumentRequest(_message.Message):
    __slots__ = ("principal", "document_id", "version")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    principal: _common_pb2.Principal
    document_id: str
    version: int
    def __init__(self, principal: _Optional[_Union[_common_pb2.Principal, _Mapping]] = ..., document_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class SubmitDocumentResponse(_message.Message):
    __slots__ = ("document_id", "topic", "partition", "offset")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    topic: str
    partition: int
    offset: int
    def __init__(self, document_id: _Optional[str] = ..., topic: _Optional[str] = ..., partition: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...
