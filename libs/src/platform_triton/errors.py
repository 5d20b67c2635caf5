"""Errors raised by platform_triton; callers catch these instead of tritonclient/grpc types."""

from __future__ import annotations


class PlatformTritonError(Exception):
    """Base class for every error raised by platform_triton."""


class TritonBinaryMissing(PlatformTritonError):
    """The tritonserver binary or the Python backend stub for this interpreter is not installed."""


class TritonUnavailable(PlatformTritonError):
    """The server could not be reached or did not answer before the deadline."""


class TritonInferenceError(PlatformTritonError):
    """The server answered but rejected the request (bad input, unknown model, model failure)."""
