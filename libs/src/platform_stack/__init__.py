"""The embedded stack: broker, Triton, Redis, Qdrant (local) and the six services on one machine."""

from __future__ import annotations

from platform_stack.config import SERVICES, StackConfig
from platform_stack.errors import StackError
from platform_stack.stack import Stack

__all__ = ("SERVICES", "Stack", "StackConfig", "StackError")
