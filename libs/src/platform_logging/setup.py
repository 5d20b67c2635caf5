"""One logging setup for every service: structlog, JSON to stdout in containers."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import structlog

from platform_logging.bounds import bound_traceback, bound_value

if TYPE_CHECKING:
    from platform_settings import LoggingSettings


def configure_logging(settings: LoggingSettings, *, service: str) -> None:
    """Route structlog and stdlib logging (aiokafka, grpc, faststream) through one renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            _add_service(service),
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            bound_values,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # aiokafka logs every rebalance step at INFO; keep its warnings only.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """Return a logger; call at module level, it binds lazily."""
    return structlog.stdlib.get_logger(name)


def bound_values(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Clip every long value, so no line carries a whole document or a 1 MB key.

    Runs last before rendering, on structlog and stdlib records alike, after the
    traceback is formatted (a 1 MB exception message is clipped too).
    """
    for key, value in event.items():
        if key in _TRACEBACK_KEYS and isinstance(value, str):
            event[key] = bound_traceback(value)
        else:
            event[key] = bound_value(value)
    return event


_TRACEBACK_KEYS = frozenset({"exception", "stack"})


def _add_service(service: str) -> Any:
    def processor(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("service", service)
        return event

    return processor
