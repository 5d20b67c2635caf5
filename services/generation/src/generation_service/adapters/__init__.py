"""Clients of the generation service's dependencies."""

from __future__ import annotations

from generation_service.adapters.cache import AnswerCache
from generation_service.adapters.peers import Peers

__all__ = ("AnswerCache", "Peers")
