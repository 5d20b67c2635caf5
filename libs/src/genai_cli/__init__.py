"""`genai`, the user's command: the embedded stack, documents in, topics out.

One module per command group: `stack` (up, down, status, demo, delegating to
`platform_stack`), `produce` and `tail` (one topic, any bytes, through librdkafka) and
`ingest` (files and folders to documents, confirmed end to end).
"""

from __future__ import annotations

from genai_cli.app import main
from genai_cli.errors import CliError

__all__ = ("CliError", "main")
