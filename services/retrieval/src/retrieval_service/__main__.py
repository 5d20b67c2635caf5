"""Entry point: `python -m retrieval_service`."""

from __future__ import annotations

from platform_service import serve
from retrieval_service import SERVICE_NAME
from retrieval_service.app import lifespan
from retrieval_service.settings import Settings


def main() -> None:
    """Serve until SIGTERM."""
    serve(name=SERVICE_NAME, settings_type=Settings, lifespan=lifespan)


if __name__ == "__main__":
    main()
