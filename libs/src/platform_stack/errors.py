"""Errors of the stack launcher; each message says what to do."""

from __future__ import annotations


class StackError(Exception):
    """The stack cannot start or stop as asked."""


class PortTaken(StackError):
    """A port the stack needs is in use."""


class BinaryMissing(StackError):
    """A server binary is not installed."""


class NotReady(StackError):
    """A component did not become ready in time."""
