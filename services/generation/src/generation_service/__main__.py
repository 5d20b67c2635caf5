"""Entry point: `python -m generation_service`."""

from __future__ import annotations

import asyncio
import functools

from platform_logging import configure_logging
from platform_service import run_service

from generation_service import SERVICE_NAME
from generation_service.app import lifespan
from generation_service.settings import Settings


def main() -> None:
    """Read settings once, configure logs, serve until SIGTERM."""
    settings = Settings()
    configure_logging(settings.logging, service=SERVICE_NAME)
    asyncio.run(run_service(settings, functools.partial(lifespan, settings)))


if __name__ == "__main__":
    main()
