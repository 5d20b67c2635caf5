"""Statuses that tell the truth: undecodable requests, oversized echoes, feedback's principal."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from contracts.rpc import assistant_pb2, common_pb2, feedback_pb2_grpc

pytestmark = pytest.mark.integration

# Invalid UTF-8 in AskRequest.question: protobuf cannot decode it (issue 6).
UNDECODABLE_ASK = bytes.fromhex("0a060a0466757a7a1203eda080")
# Field 1, length 5, then only two bytes: no message of any type decodes it.
TRUNCATED = b"\x0a\x05ab"

# One unary method of every service, with its request type: all share one interceptor.
EVERY_SERVICE = [
    ("generation", "/genai.v1.Assistant/Ask", "genai.v1.AskRequest"),
    ("generation", "/genai.v1.Assistant/Search", "genai.v1.SearchRequest"),
    ("generation", "/genai.v1.Assistant/SubmitFeedback", "genai.v1.SubmitFeedbackRequest"),
    ("ingestion", "/genai.v1.Ingestion/SubmitDocument", "genai.v1.SubmitDocumentRequest"),
    ("embedding", "/genai.v1.Embedding/Embed", "genai.v1.EmbedRequest"),
    ("retrieval", "/genai.v1.Retrieval/Retrieve", "genai.v1.RetrieveRequest"),
    ("guardrail", "/genai.v1.Guardrail/CheckInput", "genai.v1.CheckInputRequest"),
    ("feedback", "/genai.v1.Feedback/RecordFeedback", "genai.v1.SubmitFeedbackRequest"),
]

# What a status may cost in trailers: far below the 16 KiB clients accept.
_MAX_STATUS_BYTES = 8 * 1024


def _raw_call(channel: grpc.Channel, method: str, payload: bytes) -> grpc.RpcError:
    # No serializers: the bytes go on the wire exactly as given.
    call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    with pytest.raises(grpc.RpcError) as caught:
        call(payload, timeout=10)
    return caught.value


def test_an_undecodable_ask_is_invalid_argument_naming_the_request_type(stack):
    with grpc.insecure_channel(stack.config.address("generation")) as channel:
        error = _raw_call(channel, "/genai.v1.Assistant/Ask", UNDECODABLE_ASK)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert error.details().startswith("request is not a valid genai.v1.AskRequest")
    assert any(key == "x-trace-id" for key, _ in error.trailing_metadata())


def test_an_undecodable_streaming_ask_is_invalid_argument(stack):
    with grpc.insecure_channel(stack.config.address("generation")) as channel:
        stream = channel.unary_stream(
            "/genai.v1.Assistant/AskStream", request_serializer=None, response_deserializer=None
        )
        with pytest.raises(grpc.RpcError) as caught:
            list(stream(UNDECODABLE_ASK, timeout=10))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert caught.value.details().startswith("request is not a valid genai.v1.AskRequest")


@pytest.mark.parametrize(("service", "method", "request_type"), EVERY_SERVICE)
def test_every_service_answers_invalid_argument_to_undecodable_bytes(
    stack, service, method, request_type
):
    with grpc.insecure_channel(stack.config.address(service)) as channel:
        error = _raw_call(channel, method, TRUNCATED)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert error.details().startswith(f"request is not a valid {request_type}")


def _bad_request(error: grpc.RpcError) -> error_details_pb2.BadRequest:
    status = rpc_status.from_call(error)
    assert status is not None, error.details()
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert len(status.SerializeToString()) + len(error.details().encode()) < _MAX_STATUS_BYTES
    return bad_request


def test_a_huge_filter_key_on_ask_names_the_field_in_a_short_violation(
    assistant, principal, read_log
):
    key = "k" * 10_000
    trace = f"trace-{uuid.uuid4().hex[:12]}"
    with pytest.raises(grpc.RpcError) as caught:
        assistant.Ask(
            assistant_pb2.AskRequest(principal=principal, question="hi?", filters={key: "v"}),
            timeout=10,
            metadata=(("x-trace-id", trace),),
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    (violation,) = _bad_request(caught.value).field_violations
    assert violation.field.startswith("filters.kkkk") and "10000 chars" in violation.field
    assert len(violation.field) < 200
    # Nor does the log echo the whole key.
    lines = [line for line in read_log("generation").splitlines() if trace in line]
    assert lines and max(len(line) for line in lines) < 4_000


def test_a_huge_filter_key_on_search_comes_back_short_from_retrieval(assistant, principal):
    with pytest.raises(grpc.RpcError) as caught:
        assistant.Search(
            assistant_pb2.SearchRequest(
                principal=principal, query="hi", filters={"k" * 10_000: "v"}
            ),
            timeout=10,
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    (violation,) = _bad_request(caught.value).field_violations
    assert violation.field.startswith("filters.kkkk") and len(violation.field) < 200


def test_hundreds_of_violations_are_capped_and_counted(assistant, tenant):
    # 256 groups (the most allowed), each empty: one violation per group.
    crowd = common_pb2.Principal(tenant=tenant, groups=[""] * 256)
    with pytest.raises(grpc.RpcError) as caught:
        assistant.Ask(assistant_pb2.AskRequest(principal=crowd, question="hi?"), timeout=10)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    violations = _bad_request(caught.value).field_violations
    assert 1 <= len(violations) <= 20
    assert all(v.field.startswith("principal.groups.") for v in violations)
    assert "more" in caught.value.details()


def test_a_huge_answer_id_is_invalid_argument_not_a_lost_status(assistant, principal):
    with pytest.raises(grpc.RpcError) as caught:
        assistant.SubmitFeedback(
            assistant_pb2.SubmitFeedbackRequest(
                principal=principal, answer_id="a" * 20_000, rating=assistant_pb2.RATING_THUMBS_UP
            ),
            timeout=10,
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert [v.field for v in _bad_request(caught.value).field_violations] == ["answer_id"]


def test_feedback_without_a_tenant_is_invalid_argument_like_every_method(assistant):
    with pytest.raises(grpc.RpcError) as caught:
        assistant.SubmitFeedback(
            assistant_pb2.SubmitFeedbackRequest(
                principal=common_pb2.Principal(user_id="user-1"),
                answer_id=str(uuid.uuid4()),
                rating=assistant_pb2.RATING_THUMBS_UP,
            ),
            timeout=10,
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert [v.field for v in _bad_request(caught.value).field_violations] == ["principal.tenant"]


def test_the_feedback_service_names_the_principal_before_the_rating(stack):
    # Called directly (as generation does), an empty tenant and no rating: the tenant is named.
    with grpc.insecure_channel(stack.config.address("feedback")) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            feedback_pb2_grpc.FeedbackStub(channel).RecordFeedback(
                assistant_pb2.SubmitFeedbackRequest(answer_id=str(uuid.uuid4())), timeout=10
            )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert "principal.tenant" in [v.field for v in _bad_request(caught.value).field_violations]
