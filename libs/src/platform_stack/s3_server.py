"""A small S3-compatible object server on local disk: the embedded broker's durable storage.

Tansu keeps every record batch, watermark, consumer-group state and committed offset as
objects, and relies on S3's conditional writes for all of them: `If-None-Match: *` creates an
object only where none exists and `If-Match: <etag>` replaces only the version it read. A
server that ignores those headers (s3rver, local-s3-server) lets a restarted broker overwrite
its own watermarks and batches, starting again at offset 0. This one honours them.

It serves the subset of the S3 REST API that Rust's `object_store` uses: PUT, GET, HEAD and
DELETE of objects (conditional headers, single ranges), ListObjectsV2 (prefix, delimiter,
pagination) and bucket creation. Requests are not authenticated: it listens on 127.0.0.1 only.

Every object is a file under `<root>/<bucket>/`, written to a temporary file, flushed to disk
(fsync) and renamed into place before the PUT is answered, so an acknowledged write survives
the broker's crash, this server's and the machine's. Writes and deletes are serialised; reads
see either the old or the new file, never a mix.

    python -m platform_stack.s3_server --root .genai/broker --port 19093 --bucket tansu
"""

from __future__ import annotations

import argparse
import email.utils
import os
import re
import shutil
import sys
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from collections.abc import Iterator

_FILE_SUFFIX = "@"  # never produced by quote(): a file and a folder of one name cannot clash
_MAX_KEYS = 1000
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class S3Error(Exception):
    """An S3 error answer: HTTP status, S3 code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class ObjectStore:
    """Buckets of objects as files, with S3's ETag and conditional-write semantics."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync
        self._write_lock = threading.Lock()
        self._tmp = root / ".tmp"
        shutil.rmtree(self._tmp, ignore_errors=True)  # half-written files of a crashed run
        self._tmp.mkdir(parents=True, exist_ok=True)

    # -- buckets ----------------------------------------------------------------------

    def create_bucket(self, bucket: str) -> None:
        """Create a bucket (no error if it exists: one owner, on one machine)."""
        self._bucket_dir(bucket, must_exist=False).mkdir(parents=True, exist_ok=True)

    def _bucket_dir(self, bucket: str, *, must_exist: bool = True) -> Path:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket) or ".." in bucket:
            raise S3Error(400, "InvalidBucketName", "the bucket name is not valid")
        path = self.root / bucket
        if must_exist and not path.is_dir():
            raise S3Error(404, "NoSuchBucket", "the bucket does not exist")
        return path

    # -- objects ----------------------------------------------------------------------

    def path_of(self, bucket: str, key: str) -> Path:
        """The file of `key`: each component percent-encoded, the last one marked as a file."""
        encoded = [_encode(part) for part in key.split("/")]
        encoded[-1] += _FILE_SUFFIX
        return self._bucket_dir(bucket).joinpath(*encoded)

    def put(
        self, bucket: str, key: str, body: bytes, *, if_match: str | None, if_none_match: str | None
    ) -> str:
        """Store `body` under `key` if the preconditions hold; returns the new ETag."""
        path = self.path_of(bucket, key)
        tmp = self._tmp / uuid.uuid4().hex
        with tmp.open("wb") as out:
            out.write(body)
            out.flush()
            if self.fsync:
                os.fsync(out.fileno())
        try:
            with self._write_lock:
                current = _etag_of(path)
                _check_write_preconditions(current, if_match=if_match, if_none_match=if_none_match)
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, path)
                etag = _etag_of(path)
        finally:
            tmp.unlink(missing_ok=True)
        if self.fsync:  # the rename too is on disk before the PUT is answered
            _fsync_dir(path.parent)
        assert etag is not None
        return etag

    def open(self, bucket: str, key: str) -> tuple[bytes, os.stat_result]:
        """The content of `key` and the stat of that very file (so ETag and bytes agree)."""
        path = self.path_of(bucket, key)
        try:
            with path.open("rb") as source:
                stat = os.fstat(source.fileno())
                return source.read(), stat
        except (FileNotFoundError, NotADirectoryError):
            raise S3Error(404, "NoSuchKey", "the key does not exist") from None

    def delete(self, bucket: str, key: str) -> None:
        """Remove `key` (no error if absent, as in S3) and the folders it leaves empty."""
        path = self.path_of(bucket, key)
        top = self._bucket_dir(bucket)
        with self._write_lock:
            path.unlink(missing_ok=True)
            folder = path.parent
            while folder != top:
                try:
                    folder.rmdir()
                except OSError:
                    break
                folder = folder.parent

    def list(
        self, bucket: str, *, prefix: str, delimiter: str | None, after: str
    ) -> tuple[list[tuple[str, os.stat_result]], list[str], str | None]:
        """Objects and common prefixes under `prefix` after key `after`, one page of them.

        Returns (objects, common prefixes, the last key of a truncated page or None).
        """
        top = self._bucket_dir(bucket)
        # Walk only the folder that holds every key with this prefix.
        folder_parts = prefix.split("/")[:-1]
        start = top.joinpath(*(_encode(part) for part in folder_parts))
        stats: dict[str, os.stat_result] = {}
        prefixes: set[str] = set()
        for key, stat in _walk(start, "/".join(folder_parts) + "/" if folder_parts else ""):
            if not key.startswith(prefix):
                continue
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    prefixes.add(key[: cut + len(delimiter)])
                    continue
            stats[key] = stat
        names = sorted(name for name in stats.keys() | prefixes if name > after)
        page, truncated = names[:_MAX_KEYS], len(names) > _MAX_KEYS
        objects = [(name, stats[name]) for name in page if name in stats]
        common = [name for name in page if name not in stats]
        return objects, common, (page[-1] if truncated else None)


def _encode(part: str) -> str:
    if part in ("", ".", ".."):
        raise S3Error(400, "InvalidArgument", "keys with empty, . or .. components are refused")
    return quote(part, safe="")


def _walk(folder: Path, key_prefix: str) -> Iterator[tuple[str, os.stat_result]]:
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), key_prefix + unquote(entry.name) + "/")
        elif entry.name.endswith(_FILE_SUFFIX):
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # deleted meanwhile
                continue
            yield key_prefix + unquote(entry.name[: -len(_FILE_SUFFIX)]), stat


def _etag(stat: os.stat_result) -> str:
    """Changes with every write: a new file (inode) and time each time, and its size."""
    return f'"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def _etag_of(path: Path) -> str | None:
    try:
        return _etag(path.stat())
    except (FileNotFoundError, NotADirectoryError):
        return None


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def _check_write_preconditions(
    current: str | None, *, if_match: str | None, if_none_match: str | None
) -> None:
    if if_none_match is not None and current is not None:
        if if_none_match.strip() == "*" or current in _etags(if_none_match):
            raise S3Error(412, "PreconditionFailed", "the object exists (If-None-Match)")
    # S3 answers a missing object 404 here; 412 lets a writer re-read and retry instead.
    if if_match is not None and (current is None or not _etags(if_match) & {current, "*"}):
        raise S3Error(412, "PreconditionFailed", "the object changed (If-Match)")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except FileNotFoundError:  # emptied and removed by a delete meanwhile
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _http_date(stat: os.stat_result) -> str:
    return email.utils.formatdate(stat.st_mtime, usegmt=True)


def _iso_date(stat: os.stat_result) -> str:
    moment = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the broker reuses its connections
    # Headers and body leave in two writes: without TCP_NODELAY the second one waits for the
    # client's delayed ACK, 40 ms a response.
    disable_nagle_algorithm = True
    store: ObjectStore

    # -- dispatch -----------------------------------------------------------------

    def do_PUT(self) -> None:
        self._serve(self._put)

    def do_GET(self) -> None:
        self._serve(self._get)

    def do_HEAD(self) -> None:
        self._serve(self._get)

    def do_DELETE(self) -> None:
        self._serve(self._delete)

    def do_POST(self) -> None:
        self._serve(self._unsupported)

    def _serve(self, action) -> None:
        url = urlsplit(self.path)
        bucket, _, key = unquote(url.path).lstrip("/").partition("/")
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            body = self._read_body()
            action(bucket, key, query, body)
        except S3Error as exc:
            self._error(exc)
        except Exception as exc:  # noqa: BLE001 - answer 500 and keep serving
            self.log_error("internal error on %s %s: %r", self.command, self.path, exc)
            self._error(S3Error(500, "InternalError", type(exc).__name__))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- actions ------------------------------------------------------------------

    def _put(self, bucket: str, key: str, query: dict[str, str], body: bytes) -> None:
        if not key:
            self.store.create_bucket(bucket)
            self._reply(200)
            return
        if query or self.headers.get("x-amz-copy-source"):
            self._unsupported(bucket, key, query, body)
        etag = self.store.put(
            bucket,
            key,
            body,
            if_match=self.headers.get("If-Match"),
            if_none_match=self.headers.get("If-None-Match"),
        )
        self._reply(200, headers={"ETag": etag})

    def _get(self, bucket: str, key: str, query: dict[str, str], body: bytes) -> None:
        if not key:
            if self.command == "HEAD":
                self.store._bucket_dir(bucket)
                self._reply(200)
            elif query.get("list-type") == "2":
                self._list(bucket, query)
            else:
                self._unsupported(bucket, key, query, body)
            return
        content, stat = self.store.open(bucket, key)
        etag = _etag(stat)
        headers = {
            "ETag": etag,
            "Last-Modified": _http_date(stat),
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
        }
        if_match, if_none_match = self.headers.get("If-Match"), self.headers.get("If-None-Match")
        if if_match is not None and not _etags(if_match) & {etag, "*"}:
            raise S3Error(412, "PreconditionFailed", "the object changed (If-Match)")
        if if_none_match is not None and _etags(if_none_match) & {etag, "*"}:
            self._reply(304, headers=headers)
            return
        status, content = self._ranged(content, headers)
        self._reply(status, content, headers=headers)

    def _ranged(self, content: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        wanted = self.headers.get("Range")
        if not wanted:
            return 200, content
        match = _RANGE.match(wanted.strip())
        size = len(content)
        if not match or match.groups() == ("", ""):
            raise S3Error(416, "InvalidRange", "only single byte ranges are supported")
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            raise S3Error(416, "InvalidRange", "the range is not satisfiable")
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return 206, content[start : end + 1]

    def _delete(self, bucket: str, key: str, query: dict[str, str], body: bytes) -> None:
        if not key or query:
            self._unsupported(bucket, key, query, body)
        self.store.delete(bucket, key)
        self._reply(204)

    def _list(self, bucket: str, query: dict[str, str]) -> None:
        prefix = query.get("prefix", "")
        after = max(query.get("start-after", ""), query.get("continuation-token", ""))
        objects, common, last = self.store.list(
            bucket, prefix=prefix, delimiter=query.get("delimiter") or None, after=after
        )
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
            f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>",
            f"<KeyCount>{len(objects) + len(common)}</KeyCount><MaxKeys>{_MAX_KEYS}</MaxKeys>",
            f"<IsTruncated>{'true' if last else 'false'}</IsTruncated>",
        ]
        if last:
            parts.append(f"<NextContinuationToken>{escape(last)}</NextContinuationToken>")
        parts.extend(
            f"<Contents><Key>{escape(key)}</Key><LastModified>{_iso_date(stat)}</LastModified>"
            f"<ETag>{escape(_etag(stat))}</ETag><Size>{stat.st_size}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
            for key, stat in objects
        )
        parts.extend(
            f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in common
        )
        parts.append("</ListBucketResult>")
        self._reply(200, "".join(parts).encode(), headers={"Content-Type": "application/xml"})

    def _unsupported(self, bucket: str, key: str, query: dict[str, str], body: bytes) -> None:
        self.log_error("unsupported request %s %s", self.command, self.path)
        raise S3Error(501, "NotImplemented", f"{self.command} {self.path} is not supported")

    # -- replies ------------------------------------------------------------------

    def _reply(self, status: int, body: bytes = b"", *, headers: dict[str, str] | None = None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, error: S3Error) -> None:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{error.code}</Code><Message>{escape(error.message)}</Message></Error>"
        ).encode()
        if error.status >= 500:
            self.log_error("%s %s -> %d %s", self.command, self.path, error.status, error.code)
        self._reply(error.status, body, headers={"Content-Type": "application/xml"})

    def log_message(self, format: str, *args: object) -> None:
        """Only errors are logged (see log_error): a busy broker makes many requests."""

    def log_error(self, format: str, *args: object) -> None:
        sys.stderr.write(f"s3_server: {format % args}\n")
        sys.stderr.flush()


def serve(root: Path, port: int, buckets: list[str], *, fsync: bool = True) -> None:
    """Serve until SIGTERM or SIGINT."""
    store = ObjectStore(root, fsync=fsync)
    for bucket in buckets:
        store.create_bucket(bucket)
    handler = type("Handler", (_Handler,), {"store": store})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    print(f"s3_server: serving {root} on 127.0.0.1:{port}", flush=True)  # noqa: T201
    try:
        server.serve_forever()
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    """`python -m platform_stack.s3_server --root DIR --port N [--bucket B]...`."""
    import signal

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="folder that holds the buckets")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bucket", action="append", default=[], help="create it if missing")
    parser.add_argument("--no-fsync", action="store_true", help="skip fsync (faster, less safe)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(args.root, args.port, args.bucket, fsync=not args.no_fsync)
    return 0


if __name__ == "__main__":
    sys.exit(main())
