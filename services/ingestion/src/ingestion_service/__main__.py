"""Entry point: `python -m ingestion_service`."""

from __future__ import annotations

from ingestion_service import SERVICE_NAME
from ingestion_service.app import lifespan
from ingestion_service.settings import Settings
from platform_service import serve


def main() -> None:
    """Serve until SIGTERM."""
    serve(name=SERVICE_NAME, settings_type=Settings, lifespan=lifespan)


if __name__ == "__main__":
    main()
