"""Files to documents.submitted.v1 payloads: media types, ids, titles and the contract's limits.

Everything the contract (docs/TOPICS.md, "For producers") would refuse is refused here, with
the reason, and never sent.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from pydantic import ValidationError

from contracts import DocumentSubmitted, MediaType
from contracts.events import MAX_CONTENT_B64_CHARS, MAX_DOCUMENT_CHARS
from genai_cli.errors import CliError
from genai_cli.kafka import MAX_MESSAGE_BYTES

__all__ = (
    "EXTENSIONS",
    "Prepared",
    "Rejection",
    "SourceFile",
    "document_id_for",
    "html_title",
    "media_type_for",
    "prepare",
    "walk",
)

#: File extension (lower case) -> media type; anything else is rejected as unsupported.
EXTENSIONS: dict[str, MediaType] = {
    ".txt": MediaType.PLAIN,
    ".text": MediaType.PLAIN,
    ".md": MediaType.MARKDOWN,
    ".markdown": MediaType.MARKDOWN,
    ".html": MediaType.HTML,
    ".htm": MediaType.HTML,
    ".json": MediaType.JSON,
    ".csv": MediaType.CSV,
    ".pdf": MediaType.PDF,
    ".docx": MediaType.DOCX,
}
_MAX_ID_CHARS = 256
_NOT_ID_CHARS = re.compile(r"[^A-Za-z0-9._:/-]+")
_DIGEST_CHARS = 10
_TITLE_SCAN_BYTES = 64 * 1024
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class SourceFile:
    """A file found under an argument, with its path relative to that argument."""

    path: Path
    relative: str

    @property
    def document_id(self) -> str:
        """The id it is sent under."""
        return document_id_for(self.relative)


@dataclass(frozen=True)
class Rejection:
    """A document that will never be indexed, and why: refused here or dead-lettered."""

    name: str
    error_type: str
    reason: str
    where: str = "here"


@dataclass(frozen=True)
class Prepared:
    """A payload ready to send."""

    name: str
    document_id: str
    version: int
    value: bytes


def media_type_for(path: Path) -> MediaType | None:
    """The media type of a file by its extension (case-insensitive), or None."""
    return EXTENSIONS.get(path.suffix.lower())


def document_id_for(relative: str) -> str:
    """A document id from a relative path, deterministic and within DOCUMENT_ID_PATTERN.

    The path's `/`-separated form when it fits; otherwise every run of characters outside
    [A-Za-z0-9._:/-] becomes `_`, the result is cut to fit 256 characters, and `-` plus the
    first 10 hex digits of the SHA-256 of the original path is appended, so two paths that
    clean up alike keep different ids.
    """
    cleaned = _NOT_ID_CHARS.sub("_", relative)
    if cleaned == relative and len(relative) <= _MAX_ID_CHARS:
        return relative
    digest = hashlib.sha256(relative.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{cleaned[: _MAX_ID_CHARS - _DIGEST_CHARS - 1]}-{digest[:_DIGEST_CHARS]}"


def html_title(raw: bytes) -> str:
    """The <title> in the first 64 KiB of an HTML file, or ''."""
    found = _TITLE.search(raw[:_TITLE_SCAN_BYTES])
    if not found:
        return ""
    title = html.unescape(found.group(1).decode("utf-8", "replace"))
    return " ".join(title.split())[:1000]


def walk(arguments: list[Path]) -> list[SourceFile]:
    """Every file named or found under a folder, in a stable order.

    A folder's hidden entries (a name starting with `.`, such as .git) are skipped;
    symbolic links to folders are not followed.
    """
    found: list[SourceFile] = []
    for argument in arguments:
        if argument.is_file():
            found.append(SourceFile(argument.resolve(), argument.name))
        elif argument.is_dir():
            found.extend(_walk_folder(argument))
        else:
            raise CliError(f"{argument}: no such file or folder")
    return found


def _walk_folder(folder: Path) -> list[SourceFile]:
    files = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(n for n in names if not n.startswith(".")):
            path = Path(parent, name)
            if path.is_file():
                files.append(SourceFile(path.resolve(), path.relative_to(folder).as_posix()))
    return files


def prepare(
    source: SourceFile, *, tenant: str, groups: list[str], source_prefix: str | None = None
) -> Prepared | Rejection:
    """The payload of one file, or why it cannot be sent."""
    name = source.relative
    media_type = media_type_for(source.path)
    if media_type is None:
        supported = ", ".join(sorted(EXTENSIONS))
        what = f"'{source.path.suffix}'" if source.path.suffix else "no extension"
        return Rejection(name, "unsupported_extension", f"{what}; supported: {supported}")
    try:
        stat = source.path.stat()
        # Cheap bound before reading: no file this large can fit either body.
        if stat.st_size > max(MAX_DOCUMENT_CHARS * 4, MAX_CONTENT_B64_CHARS * 3 // 4):
            return _too_large(name, f"{stat.st_size:,} bytes")
        raw = source.path.read_bytes()
    except OSError as exc:
        return Rejection(name, "unreadable", exc.strerror or str(exc))
    if not raw:
        return Rejection(name, "no_content", "empty file")
    body = _body(name, raw, media_type)
    if isinstance(body, Rejection):
        return body
    payload: dict[str, object] = {
        "tenant": tenant,
        "id": source.document_id,
        "operation": "upsert",
        # The file's mtime: re-ingesting an unchanged file sends the same version.
        "version": stat.st_mtime_ns,
        "title": (html_title(raw) if media_type is MediaType.HTML else "") or source.path.name,
        "source": (source_prefix + quote(source.relative)) if source_prefix else str(source.path),
        "media_type": media_type.value,
        **body,
        "access_groups": groups,
    }
    try:
        DocumentSubmitted.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}" for e in exc.errors()
        )
        return Rejection(name, "schema_violation", problems)
    value = json.dumps(payload, ensure_ascii=False).encode()
    if len(value) > MAX_MESSAGE_BYTES:
        return _too_large(name, f"a {len(value):,}-byte message")
    return Prepared(name, source.document_id, stat.st_mtime_ns, value)


def _body(name: str, raw: bytes, media_type: MediaType) -> dict[str, str] | Rejection:
    """`text` for a text format in valid UTF-8, else base64 `content`, each within its limit."""
    if not media_type.is_binary:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass  # another encoding: the bytes go as content, parsed by ingestion
        else:
            if len(text) > MAX_DOCUMENT_CHARS:
                return _too_large(name, f"{len(text):,} characters")
            if not text.strip():
                return Rejection(name, "no_content", "only whitespace")
            return {"text": text}
    encoded = base64.b64encode(raw).decode("ascii")
    if len(encoded) > MAX_CONTENT_B64_CHARS:
        return _too_large(name, f"{len(raw):,} bytes")
    return {"content": encoded}


def _too_large(name: str, size: str) -> Rejection:
    return Rejection(
        name,
        "too_large",
        f"{size}: the contract takes at most {MAX_DOCUMENT_CHARS:,} characters of text or "
        f"{MAX_CONTENT_B64_CHARS:,} base64 characters (about 4.5 MB) of a binary file",
    )
