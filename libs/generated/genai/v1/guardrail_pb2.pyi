from genai.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_ALLOW: _ClassVar[Decision]
    DECISION_REDACT: _ClassVar[Decision]
    DECISION_BLOCK: _ClassVar[Decision]
DECISION_UNSPECIFIED: Decision
DECISION_ALLOW: Decision
DECISION_REDACT: Decision
DECISION_BLOCK: Decision

class Finding(_message.Message):
    __slots__ = ("category", "detail", "score")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    category: str
    detail: str
    score: float
    def __init__(self, category: _Optional[str] = ..., detail: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class GuardrailVerdict(_message.Message):
    __slots__ = ("decision", "text", "findings", "groundedness")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    GROUNDEDNESS_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    text: str
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    groundedness: float
    def __init__(self, decision: _Optional[_Union[Decision, str]] = ..., text: _Optional[str] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., groundedness: _Optional[float] = ...) -> None: ...

class CheckInputRequest(_message.Message):
    __slots__ = ("principal", "text")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    principal: _common_pb2.Principal
    text: str
    def __init__(self, principal: _Optional[_Union[_common_pb2.Principal, _Mapping]] = ..., text: _Optional[str] = ...) -> None: ...

class CheckOutputRequest(_message.Message):
    __slots__ = ("principal", "question", "answer", "passages")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    PASSAGES_FIELD_NUMBER: _ClassVar[int]
    principal: _common_pb2.Principal
    question: str
    answer: str
    passages: _containers.RepeatedCompositeFieldContainer[_common_pb2.Passage]
    def __init__(self, principal: _Optional[_Union[_common_pb2.Principal, _Mapping]] = ..., question: _Optional[str] = ..., answer: _Optional[str] = ..., passages: _Optional[_Iterable[_Union[_common_pb2.Passage, _Mapping]]] = ...) -> None: ...
