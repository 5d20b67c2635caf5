"""tenacity policies shared by every adapter.

Only operations that are safe to repeat may be wrapped: reads, upserts with
deterministic ids, deletes by id. A retry of anything else could duplicate a write.
"""

from __future__ import annotations

import logging

from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

_log = logging.getLogger("platform_retry")


def idempotent_retry(
    *transient: type[BaseException],
    attempts: int = 4,
    max_delay_s: float = 15.0,
) -> AsyncRetrying:
    """Return an `AsyncRetrying` that retries `transient` errors with jittered backoff.

    Use as ``async for attempt in idempotent_retry(Unavailable): with attempt: ...``.
    """
    return AsyncRetrying(
        retry=retry_if_exception_type(transient),
        stop=stop_after_attempt(attempts) | stop_after_delay(max_delay_s),
        wait=wait_exponential_jitter(initial=0.1, max=2.0),
        before_sleep=before_sleep_log(_log, logging.WARNING),
        reraise=True,
    )
