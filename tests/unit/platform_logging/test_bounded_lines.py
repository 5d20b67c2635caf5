"""No log line carries a whole document: every value is clipped before rendering."""

from __future__ import annotations

import io
import json
import logging
from typing import TYPE_CHECKING

import pytest
import structlog

from platform_logging import clip, clip_bytes, configure_logging, get_logger
from platform_settings import LoggingSettings

if TYPE_CHECKING:
    from collections.abc import Iterator

_HUGE = "x" * 1_000_000
_MAX_LINE = 4_000
_NAME = "bounded_lines_test"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What a service configured as in a container writes to stdout."""
    configure_logging(LoggingSettings(format="json", level="INFO"), service="test")
    root = logging.getLogger()
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    out = io.StringIO()
    handler.setStream(out)
    yield out
    root.removeHandler(handler)
    structlog.reset_defaults()


def _written(out: io.StringIO) -> list[str]:
    return [line for line in out.getvalue().splitlines() if line]


def test_a_million_character_value_makes_a_short_line(lines: io.StringIO) -> None:
    get_logger(_NAME).info("document_received", text=_HUGE)
    (line,) = _written(lines)
    assert len(line) < _MAX_LINE
    event = json.loads(line)
    assert event["text"].startswith("xxxx") and event["text"].endswith("…(1000000 chars)")
    assert event["event"] == "document_received" and event["service"] == "test"


def test_keys_items_reprs_and_stdlib_records_are_clipped(lines: io.StringIO) -> None:
    log = get_logger(_NAME)
    log.info("filters", filters={_HUGE: "v"}, groups=["g"] * 500)
    log.info("raw_bytes", payload=_HUGE.encode(), width=2**12_000)
    logging.getLogger(_NAME).warning("message %s", _HUGE)
    written = _written(lines)
    assert len(written) == 3
    assert all(len(line) < _MAX_LINE for line in written), [len(line) for line in written]
    filters, raw, stdlib = (json.loads(line) for line in written)
    (key,) = filters["filters"]
    assert key.endswith("…(1000000 chars)")
    assert len(filters["groups"]) == 51 and filters["groups"][-1] == "…450 more items"
    assert raw["payload"].startswith("b'xxx") and raw["width"].startswith("<int of")
    assert stdlib["event"].startswith("message xxx")


def test_a_traceback_keeps_its_frames_and_a_clipped_message(lines: io.StringIO) -> None:
    try:
        raise ValueError(_HUGE)
    except ValueError:
        get_logger(_NAME).exception("failed")
    (line,) = _written(lines)
    assert len(line) < _MAX_LINE
    exception = json.loads(line)["exception"]
    assert "Traceback" in exception and "ValueError: xxx" in exception


def test_clip_keeps_a_prefix_and_says_how_long_it_was() -> None:
    assert clip("short") == "short"
    assert clip("k" * 10_000) == "k" * 64 + "…(10000 chars)"
    cut = clip_bytes("é" * 1000, 100)
    assert len(cut.encode()) <= 100 and cut.endswith("…(1000 chars)")
