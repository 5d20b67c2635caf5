"""What every service's `__main__` calls: settings once, logging, then the runner."""

from __future__ import annotations

import asyncio
import functools
import sys
from typing import TYPE_CHECKING, TypeVar

from pydantic import ValidationError

from platform_logging import configure_logging
from platform_service.runner import run_service

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager

    from platform_service.runner import ServiceParts
    from platform_settings import ServiceSettings

SettingsT = TypeVar("SettingsT", bound="ServiceSettings")


def serve(
    *,
    name: str,
    settings_type: type[SettingsT],
    lifespan: Callable[[SettingsT], AbstractAsyncContextManager[ServiceParts]],
) -> None:
    """Read settings (a missing or bad variable stops the service at boot), serve until SIGTERM."""
    try:
        settings = settings_type()
    except ValidationError as exc:
        prefix = settings_type.model_config.get("env_prefix", "")
        problems = "; ".join(
            f"{_variable(prefix, e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        sys.exit(f"{name}: bad configuration: {problems}")
    configure_logging(settings.logging, service=name)
    asyncio.run(run_service(settings, functools.partial(lifespan, settings)))


def _variable(prefix: str, loc: tuple[object, ...]) -> str:
    """The environment variable behind an error location (the model itself when empty)."""
    return f"{prefix}{'_'.join(str(p) for p in loc)}".upper() if loc else "settings"
