"""Entry point: `python -m guardrail_service`."""

from __future__ import annotations

from guardrail_service import SERVICE_NAME
from guardrail_service.app import lifespan
from guardrail_service.settings import Settings
from platform_service import serve


def main() -> None:
    """Serve until SIGTERM."""
    serve(name=SERVICE_NAME, settings_type=Settings, lifespan=lifespan)


if __name__ == "__main__":
    main()
