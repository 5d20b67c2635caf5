"""Client channels: the same options, trace propagation and deadlines everywhere."""

from __future__ import annotations

import json

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from platform_grpc.interceptors import ClientInterceptor

#: Timeout of a downstream call when the request being served has no tighter deadline.
DEFAULT_CALL_TIMEOUT_S = 10.0


# gRPC's own retry policy: a call that met UNAVAILABLE (peer restarting, connection
# refused, channel still backing off) is sent again, within the call's deadline.
_RETRY_UNAVAILABLE = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.2s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def create_channel(
    address: str,
    *,
    idempotent: bool,
    default_timeout_s: float = DEFAULT_CALL_TIMEOUT_S,
    max_message_bytes: int = 8 * 1024 * 1024,
) -> grpc.aio.Channel:
    """Return an insecure channel to `address` (host:port) with our client interceptor.

    `idempotent=True` turns on retries of UNAVAILABLE: only for a peer whose every
    method is safe to repeat (reads, writes with deterministic ids).
    """
    retry = [("grpc.enable_retries", 1), ("grpc.service_config", _RETRY_UNAVAILABLE)]
    return grpc.aio.insecure_channel(
        address,
        options=[
            *(retry if idempotent else [("grpc.enable_retries", 0)]),
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.keepalive_time_ms", 30_000),
            # Reconnect quickly after a peer restarts instead of backing off for minutes.
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 2_000),
        ],
        interceptors=[ClientInterceptor(default_timeout_s=default_timeout_s)],
    )


async def is_serving(channel: grpc.aio.Channel, *, timeout_s: float = 1.0) -> bool:
    """Ask a peer's standard health service whether it is SERVING; never raises."""
    try:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=timeout_s
        )
    except grpc.aio.AioRpcError:
        return False
    return response.status == health_pb2.HealthCheckResponse.SERVING
