"""Server and client interceptors: trace ids, deadlines and error mapping in one place."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from platform_grpc.context import remaining, set_deadline
from platform_grpc.errors import InvalidArgument, PlatformError, status_message
from platform_logging import TRACE_HEADER, bind_request_context, clip, current_trace_id, get_logger

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

_log = get_logger(__name__)

# Probes and tooling call these constantly; logging them would drown the real calls.
_QUIET_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")

# Details of a peer's status we pass on: room for a bounded BadRequest and a little more.
_MAX_DETAIL_BYTES = 5 * 1024

# Codes a downstream failure keeps when it crosses this service: the caller's
# remedy (retry, fix the request, wait) is the same as ours.
_PASSTHROUGH = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
}


class ServerInterceptor(grpc.aio.ServerInterceptor):
    """Binds the trace id, enforces a default deadline, and maps errors to statuses."""

    def __init__(self, *, default_deadline_s: float) -> None:
        self._default_deadline_s = default_deadline_s

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        """Wrap unary and server-streaming handlers (the only kinds our protos use)."""
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        incoming_trace = metadata.get(TRACE_HEADER)
        deserializer = _tolerant(handler.request_deserializer)
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method, incoming_trace),
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, method, incoming_trace),
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _budget(self, context: grpc.aio.ServicerContext) -> float:
        client_remaining = context.time_remaining()
        if client_remaining is None:
            return self._default_deadline_s
        return client_remaining

    def _wrap_unary(self, inner: Any, method: str, incoming_trace: str | None) -> Any:
        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            with bind_request_context(incoming_trace, rpc=method) as trace_id:
                context.set_trailing_metadata(((TRACE_HEADER, trace_id),))
                budget = self._budget(context)
                set_deadline(budget)
                started = time.perf_counter()
                try:
                    await _reject_undecodable(context, request, trace_id)
                    async with asyncio.timeout(budget):
                        response = await inner(request, context)
                except BaseException as exc:
                    await _abort(context, exc, trace_id, method)
                    raise
                _log_completed(method, started)
                return response

        return unary

    def _wrap_stream(self, inner: Any, method: str, incoming_trace: str | None) -> Any:
        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            with bind_request_context(incoming_trace, rpc=method) as trace_id:
                await context.send_initial_metadata(((TRACE_HEADER, trace_id),))
                budget = self._budget(context)
                set_deadline(budget)
                started = time.perf_counter()
                try:
                    await _reject_undecodable(context, request, trace_id)
                    async with asyncio.timeout(budget):
                        async for item in inner(request, context):
                            yield item
                except BaseException as exc:
                    await _abort(context, exc, trace_id, method)
                    raise
                _log_completed(method, started)

        return stream


class _Undecodable:
    """Handed to the wrapped method in place of a request protobuf could not decode."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """`deserializer`, returning an `_Undecodable` instead of raising.

    grpc calls the deserializer outside any handler, and answers its exceptions
    with UNKNOWN "Unexpected <class DecodeError>"; bytes the caller got wrong
    are INVALID_ARGUMENT, with a status our wrapper can set (and a trace id).
    """
    if deserializer is None:
        return None
    # `Message.FromString` is bound to its class: name the type the caller should send.
    descriptor = getattr(getattr(deserializer, "__self__", None), "DESCRIPTOR", None)
    type_name = getattr(descriptor, "full_name", "request message")

    def deserialize(raw: bytes) -> Any:
        try:
            return deserializer(raw)
        # upb raises DecodeError (past its depth limit too); the pure-Python parser may
        # raise the others.
        except (DecodeError, RecursionError, ValueError) as exc:
            return _Undecodable(
                f"request is not a valid {type_name}: {clip(str(exc), 200)} "
                "(truncated bytes, another message type, or a string that is not UTF-8)"
            )

    return deserialize


async def _reject_undecodable(
    context: grpc.aio.ServicerContext, request: Any, trace_id: str
) -> None:
    if isinstance(request, _Undecodable):
        _log.info("rpc_undecodable_request", reason=request.reason)
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            request.reason,
            trailing_metadata=((TRACE_HEADER, trace_id),),
        )


def _log_completed(method: str, started: float) -> None:
    if not method.startswith(_QUIET_PREFIXES):
        _log.info("rpc_completed", ms=round((time.perf_counter() - started) * 1000, 2))


async def _abort(
    context: grpc.aio.ServicerContext, exc: BaseException, trace_id: str, method: str
) -> None:
    """Turn `exc` into a status on `context`; returns only for errors it does not own."""
    if isinstance(exc, asyncio.CancelledError | GeneratorExit) or _is_abort(exc):
        return
    trailing = ((TRACE_HEADER, trace_id),)
    if isinstance(exc, InvalidArgument):
        _log.info("rpc_invalid_argument", violations=exc.violations)
        await context.abort_with_status(_bad_request(exc, trailing))
    if isinstance(exc, PlatformError):
        message = status_message(str(exc))
        _log.warning("rpc_failed", code=exc.code.name, error=message)
        await context.abort(exc.code, message, trailing_metadata=trailing)
    if isinstance(exc, TimeoutError):
        _log.warning("rpc_deadline_exceeded")
        await context.abort(
            grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded", trailing_metadata=trailing
        )
    if isinstance(exc, grpc.aio.AioRpcError):
        code = exc.code() if exc.code() in _PASSTHROUGH else grpc.StatusCode.INTERNAL
        _log.warning("rpc_downstream_failed", code=exc.code().name, details=exc.details())
        if code is exc.code() and (rich := _rich_status(exc)) is not None:
            # Keep the peer's details (e.g. BadRequest field violations) for our caller.
            await context.abort_with_status(_StatusWithTrailing(rich, trailing))
        await context.abort(
            code, status_message(f"downstream: {exc.details()}"), trailing_metadata=trailing
        )
    _log.exception("rpc_internal_error", method=method)
    await context.abort(
        grpc.StatusCode.INTERNAL,
        f"internal error; give support the trace id {trace_id}",
        trailing_metadata=trailing,
    )


def _rich_status(exc: grpc.aio.AioRpcError) -> grpc.Status | None:
    """The google.rpc.Status a peer attached to its error, if any, within our bounds."""
    try:
        status = rpc_status.from_call(exc)
    except ValueError:  # details inconsistent with the code: ignore them
        return None
    return rpc_status.to_status(_bounded(status)) if status is not None else None


def _bounded(status: status_pb2.Status) -> status_pb2.Status:
    """`status` with its message and details cut to what one of ours may carry.

    A peer's status is bounded already when it is one of ours; this holds for any
    peer, and keeps room for the trailers we add.
    """
    bounded = status_pb2.Status(code=status.code, message=status_message(status.message))
    room = _MAX_DETAIL_BYTES
    for detail in status.details:
        kept = detail
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations = {v.field: v.description for v in bad_request.field_violations}
            kept = any_pb2.Any()
            kept.Pack(_bad_request_detail(InvalidArgument(violations)))
        if kept.ByteSize() <= room:
            bounded.details.add().CopyFrom(kept)
            room -= kept.ByteSize()
    return bounded


def _is_abort(exc: BaseException) -> bool:
    # context.abort() raises this private class; let it pass unchanged.
    return type(exc).__name__ == "AbortError"


def _bad_request(exc: InvalidArgument, trailing: tuple[tuple[str, str], ...]) -> Any:
    """A google.rpc.Status with BadRequest field violations, as clients expect."""
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=str(exc))
    status.details.add().Pack(_bad_request_detail(exc))
    converted = rpc_status.to_status(status)
    return _StatusWithTrailing(converted, trailing)


def _bad_request_detail(exc: InvalidArgument) -> error_details_pb2.BadRequest:
    # InvalidArgument has bounded its violations (count, length, bytes) already.
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=f, description=r)
            for f, r in exc.violations.items()
        ]
    )


class _StatusWithTrailing(grpc.Status):
    def __init__(self, status: grpc.Status, trailing: tuple[tuple[str, str], ...]) -> None:
        self.code = status.code
        self.details = status.details
        self.trailing_metadata = tuple(status.trailing_metadata) + trailing


class ClientInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor
):
    """Adds the trace id and caps every call's timeout by the request's own deadline."""

    def __init__(self, *, default_timeout_s: float) -> None:
        self._default_timeout_s = default_timeout_s

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if (trace_id := current_trace_id()) and TRACE_HEADER not in metadata:
            metadata.add(TRACE_HEADER, trace_id)
        timeout = remaining(details.timeout or self._default_timeout_s)
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=timeout,
            metadata=metadata,
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        """Unary calls."""
        return await continuation(self._details(details), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        """Server-streaming calls."""
        return await continuation(self._details(details), request)
