"""Runs a service: its gRPC server, its Kafka subscribers and its health, until SIGTERM."""

from __future__ import annotations

from platform_service.entrypoint import serve
from platform_service.runner import ServiceParts, run_service

__all__ = ("ServiceParts", "run_service", "serve")
