"""Entry point: `python -m feedback_service`."""

from __future__ import annotations

from feedback_service import SERVICE_NAME
from feedback_service.app import lifespan
from feedback_service.settings import Settings
from platform_service import serve


def main() -> None:
    """Serve until SIGTERM."""
    serve(name=SERVICE_NAME, settings_type=Settings, lifespan=lifespan)


if __name__ == "__main__":
    main()
