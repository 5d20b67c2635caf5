"""Triton Python-backend model: a chat in, one streamed response per generated token out.

llama.cpp runs in this backend stub through xllamacpp (its C++ server, in-process). The model is
decoupled: each token's text is a response of its own on Triton's gRPC stream, and a final
response carries llama.cpp's usage counts and the finish reason. A request that cannot be served
gets an INVALID_ARG error response; the instance keeps serving.
"""

from __future__ import annotations

import json
import math
import secrets
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils
import xllamacpp

ROLES = frozenset({"system", "user", "assistant"})
MAX_STOP_STRINGS = 4
MAX_TEMPERATURE = 2.0
MAX_TOKENIZE_TEXTS = 256
TOKENIZE_TIMEOUT_S = 10.0
# llama.cpp's HTTP status in an error chunk -> Triton error code.
_ERROR_CODES = {400: "INVALID_ARG", 501: "UNSUPPORTED", 503: "UNAVAILABLE"}


class BadRequest(ValueError):
    """The request can never be served as sent (INVALID_ARG)."""


@dataclass
class Settings:
    """config.pbtxt parameters of the model."""

    model_path: Path
    n_ctx: int
    n_threads: int
    n_threads_batch: int
    max_tokens_limit: int
    default_temperature: float

    @classmethod
    def from_config(cls, config: dict[str, Any], version_dir: Path) -> Settings:
        """Read the parameters; a missing or malformed one stops the model from loading."""
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        return cls(
            model_path=version_dir / params["model_file"],  # an absolute path stays absolute
            n_ctx=int(params["n_ctx"]),
            n_threads=int(params["n_threads"]),
            n_threads_batch=int(params["n_threads_batch"]),
            max_tokens_limit=int(params["max_tokens_limit"]),
            default_temperature=float(params["default_temperature"]),
        )


@dataclass
class Generation:
    """What the token callback learned while llama.cpp streamed one request."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""
    cancelled: bool = False
    sent: int = 0
    error: pb_utils.TritonError | None = None


def _error(message: str, code: str = "INVALID_ARG") -> pb_utils.TritonError:
    """A Triton error with one of pb_utils.TritonError's codes."""
    return pb_utils.TritonError(message, getattr(pb_utils.TritonError, code))


def _scalar(request: Any, name: str) -> Any:
    """The single element of an optional input, or None when the request omits it."""
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        return None
    values = tensor.as_numpy().reshape(-1)
    if values.size != 1:
        raise BadRequest(f"{name} must hold one value, got {values.size}")
    return values[0]


def _text(value: Any, name: str) -> str:
    """Decode one BYTES element as UTF-8."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"{name} is not valid UTF-8") from exc
    if isinstance(value, str):
        return value
    raise BadRequest(f"{name} must be a string")


def parse_messages(raw: str) -> list[dict[str, str]]:
    """Parse PROMPT: a non-empty JSON array of {"role", "content"} chat messages."""
    try:
        messages = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"PROMPT is not JSON: {exc}") from exc
    if not isinstance(messages, list) or not messages:
        raise BadRequest("PROMPT must be a non-empty JSON array of chat messages")
    for i, message in enumerate(messages):
        if (
            not isinstance(message, dict)
            or message.get("role") not in ROLES
            or not isinstance(message.get("content"), str)
        ):
            raise BadRequest(
                f"PROMPT message {i} must be {{'role': one of {sorted(ROLES)}, 'content': str}}"
            )
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def build_request(request: Any, settings: Settings) -> dict[str, Any]:
    """Turn Triton inputs into an OpenAI chat request for llama.cpp (BadRequest if invalid)."""
    messages = parse_messages(_text(_scalar(request, "PROMPT"), "PROMPT"))
    max_tokens = _scalar(request, "MAX_TOKENS")
    if max_tokens is None or not 1 <= int(max_tokens) <= settings.max_tokens_limit:
        raise BadRequest(f"MAX_TOKENS must be 1..{settings.max_tokens_limit}, got {max_tokens}")
    temperature = _scalar(request, "TEMPERATURE")
    temperature = settings.default_temperature if temperature is None else float(temperature)
    if not (math.isfinite(temperature) and 0.0 <= temperature <= MAX_TEMPERATURE):
        raise BadRequest(f"TEMPERATURE must be 0..{MAX_TEMPERATURE}, got {temperature}")
    body: dict[str, Any] = {
        "messages": messages,
        "max_tokens": int(max_tokens),
        "temperature": temperature,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    stop_tensor = pb_utils.get_input_tensor_by_name(request, "STOP")
    if stop_tensor is not None:
        stop = [_text(v, "STOP") for v in stop_tensor.as_numpy().reshape(-1)]
        if len(stop) > MAX_STOP_STRINGS or not all(stop):
            raise BadRequest(f"STOP takes at most {MAX_STOP_STRINGS} non-empty strings")
        if stop:
            body["stop"] = stop
    return body


def _strings(name: str, value: str) -> pb_utils.Tensor:
    """A one-element BYTES output tensor."""
    return pb_utils.Tensor(name, np.array([value.encode("utf-8")], dtype=np.object_))


def _int32(name: str, value: int) -> pb_utils.Tensor:
    """A one-element INT32 output tensor."""
    return pb_utils.Tensor(name, np.array([value], dtype=np.int32))


class TritonPythonModel:
    """Stream chat completions from a GGUF model, one response per token."""

    def initialize(self, args: dict[str, str]) -> None:
        """Load the GGUF model into an in-process llama.cpp server."""
        config = json.loads(args["model_config"])
        if not pb_utils.using_decoupled_model_transaction_policy(config):
            raise pb_utils.TritonModelException("text_generation must be decoupled")
        version_dir = Path(args["model_repository"]) / args["model_version"]
        self._settings = settings = Settings.from_config(config, version_dir)
        if not settings.model_path.is_file():
            raise pb_utils.TritonModelException(f"no GGUF model at {settings.model_path}")

        params = xllamacpp.CommonParams()
        params.model.path = str(settings.model_path)
        params.n_ctx = settings.n_ctx
        params.n_parallel = 1  # one request at a time: execute() blocks until it is done
        params.cpuparams.n_threads = settings.n_threads
        params.cpuparams_batch.n_threads = settings.n_threads_batch
        params.model_alias = {"text_generation"}  # a set: a str would be split into characters
        params.verbosity = -1  # llama.cpp logs every request's timings to stderr otherwise
        # xllamacpp always opens llama.cpp's HTTP listener (port 0: a free one on 127.0.0.1).
        # Nothing uses it; a random API key keeps other local processes from using it.
        params.port = 0
        self._api_key = secrets.token_urlsafe(32)
        params.api_keys = [self._api_key]
        self._server = xllamacpp.Server(params)
        # Tokenize mode uses that listener's /tokenize: xllamacpp has no in-process tokenizer
        # call, and a local HTTP round trip costs ~3 ms (measured), far below a prompt's prefill.
        self._address = self._server.listening_address

    def execute(self, requests: list) -> None:
        """Serve each request in turn; every response goes through the request's sender."""
        for request in requests:
            sender = request.get_response_sender()
            try:
                self._serve(request, sender)
            except Exception as exc:  # noqa: BLE001 - one request's failure never ends the instance
                failure = _error(f"text_generation failed: {exc}", "INTERNAL")
                self._finish_with_error(sender, failure)
        return None

    def _serve(self, request: Any, sender: Any) -> None:
        """Validate, stream the tokens, then send the final response."""
        texts = pb_utils.get_input_tensor_by_name(request, "TOKENIZE")
        if texts is not None:
            self._tokenize(texts, sender)
            return
        try:
            body = build_request(request, self._settings)
        except BadRequest as exc:
            self._finish_with_error(sender, _error(str(exc)))
            return
        generation = Generation()
        if sender.is_cancelled():  # cancelled while it waited in Triton's queue
            self._finish_with_error(sender, _error("request cancelled", "CANCELLED"))
            return

        def on_chunk(chunk: dict[str, Any]) -> bool:
            """Send one token; return True to make llama.cpp stop."""
            try:
                return self._on_chunk(chunk, sender, generation)
            except Exception as exc:  # noqa: BLE001 - xllamacpp ignores callback exceptions
                generation.error = _error(f"text_generation failed: {exc}", "INTERNAL")
                return True

        try:
            result = self._server.handle_chat_completions(body, on_chunk)
        except ValueError as exc:  # llama.cpp's own request validation
            self._finish_with_error(sender, _error(str(exc)))
            return
        if isinstance(result, dict) and "error" in result:
            self._on_chunk(result, sender, generation)
        if generation.cancelled:
            pb_utils.Logger.log_info(
                f"text_generation: request {request.request_id()!r} cancelled after "
                f"{generation.sent} tokens"
            )
            self._finish_with_error(sender, _error("request cancelled", "CANCELLED"))
        elif generation.error is not None:
            self._finish_with_error(sender, generation.error)
        elif not generation.finish_reason:
            failure = _error("llama.cpp ended without a finish reason", "INTERNAL")
            self._finish_with_error(sender, failure)
        else:
            final = pb_utils.InferenceResponse(
                output_tensors=[
                    _strings("TEXT", ""),
                    _int32("PROMPT_TOKENS", generation.prompt_tokens),
                    _int32("COMPLETION_TOKENS", generation.completion_tokens),
                    _strings("FINISH_REASON", generation.finish_reason),
                ]
            )
            sender.send(final, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    @staticmethod
    def _on_chunk(chunk: dict[str, Any], sender: Any, generation: Generation) -> bool:
        """Handle one chat.completion.chunk (or error) dict from llama.cpp."""
        if "error" in chunk:
            error = chunk["error"]
            code = _ERROR_CODES.get(error.get("code"), "INTERNAL")
            generation.error = _error(str(error.get("message", error)), code)
            return True
        if sender.is_cancelled():
            generation.cancelled = True
            return True
        usage = chunk.get("usage")
        if usage:
            generation.prompt_tokens = int(usage.get("prompt_tokens", 0))
            generation.completion_tokens = int(usage.get("completion_tokens", 0))
        for choice in chunk.get("choices") or ():
            text = (choice.get("delta") or {}).get("content")
            if text:
                sender.send(pb_utils.InferenceResponse(output_tensors=[_strings("TEXT", text)]))
                generation.sent += 1
            if choice.get("finish_reason"):
                generation.finish_reason = str(choice["finish_reason"])
        return False

    def _tokenize(self, tensor: Any, sender: Any) -> None:
        """Tokenize mode: one response with each text's token count and the context size."""
        try:
            texts = [_text(v, "TOKENIZE") for v in tensor.as_numpy().reshape(-1)]
            if len(texts) > MAX_TOKENIZE_TEXTS:
                raise BadRequest(f"TOKENIZE takes at most {MAX_TOKENIZE_TEXTS} texts")
        except BadRequest as exc:
            self._finish_with_error(sender, _error(str(exc)))
            return
        counts = [
            len(self._post("/tokenize", {"content": t, "add_special": False})["tokens"])
            for t in texts
        ]
        response = pb_utils.InferenceResponse(
            output_tensors=[
                pb_utils.Tensor("TOKEN_COUNTS", np.array(counts, dtype=np.int32)),
                _int32("N_CTX", self._settings.n_ctx),
            ]
        )
        sender.send(response, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        """A JSON call to the in-process llama.cpp server's own HTTP listener."""
        request = urllib.request.Request(  # noqa: S310 - our own listener on 127.0.0.1
            f"{self._address}{path}",
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self._api_key}",
            },
        )
        with urllib.request.urlopen(request, timeout=TOKENIZE_TIMEOUT_S) as reply:  # noqa: S310
            return json.loads(reply.read())

    @staticmethod
    def _finish_with_error(sender: Any, error: pb_utils.TritonError) -> None:
        """End the request's stream with an error response."""
        sender.send(
            pb_utils.InferenceResponse(error=error),
            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
        )

    def finalize(self) -> None:
        """Free the llama.cpp context and model."""
        self._server = None
