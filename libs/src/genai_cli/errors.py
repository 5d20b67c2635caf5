"""The one exception of the `genai` command: a problem to report in a line, not a traceback."""

from __future__ import annotations

__all__ = ("CliError",)


class CliError(Exception):
    """Something the user can fix (broker down, missing topic, bad argument); exits with 1."""
