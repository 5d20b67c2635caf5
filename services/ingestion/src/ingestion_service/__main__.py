"""Entry point: `python -m ingestion_service`."""

from __future__ import annotations

import asyncio
import functools

from platform_logging import configure_logging
from platform_service import run_service

from ingestion_service import SERVICE_NAME
from ingestion_service.app import lifespan
from ingestion_service.settings import Settings


def main() -> None:
    """Read settings once, configure logs, serve until SIGTERM."""
    settings = Settings()
    configure_logging(settings.logging, service=SERVICE_NAME)
    asyncio.run(run_service(settings, functools.partial(lifespan, settings)))


if __name__ == "__main__":
    main()
