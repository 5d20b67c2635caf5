"""Entry point: `python -m embedding_service`."""

from __future__ import annotations

from embedding_service import SERVICE_NAME
from embedding_service.app import lifespan
from embedding_service.settings import Settings
from platform_service import serve


def main() -> None:
    """Serve until SIGTERM."""
    serve(name=SERVICE_NAME, settings_type=Settings, lifespan=lifespan)


if __name__ == "__main__":
    main()
