"""The media bucket served over HTTP on loopback the way the CloudFront distribution serves it to TikTok for
PULL_FROM_URL posts: GET and HEAD of /<key>[?versionId=...], single byte ranges (206, 416), 404 for a missing
key or version, no redirects, the object streamed from S3 in chunks (never held whole in memory).

As the distribution does, it serves only CloudFront signed URLs made with a key the stack trusts (the key
pair made at deploy time), before they expire: 403 otherwise. The one exception is TikTok's URL-prefix
verification file, `/tiktok*.txt`, served unsigned from the bucket's `tiktok-verification/` folder.

Starting it puts MEDIA_BASE_URL=<base_url> into every function's environment (export_env=False to opt out).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from functions.posting.media_urls import VERIFICATION_PREFIX
from functions.settings import Env
from local.loopback import LoopbackHttpServer, RequestHandler
from local.runtime.cloudfront_signing import check_signed_url, split_signed
from local.runtime.runtime import LocalAws

LOG = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 1024 * 1024
_VERIFICATION_FILE = re.compile(r"^/tiktok.*\.txt$")  # the distribution's "/tiktok*.txt" behaviour


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """(first, last) inclusive for a satisfiable single range; None to serve the whole object (no Range,
    several ranges or an invalid one, which HTTP lets a server ignore); "unsatisfiable" for a range that
    starts past the end."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None or match.groups() == ("", ""):
        return None
    first_text, last_text = match.groups()
    if first_text:
        first = int(first_text)
        if last_text and int(last_text) < first:
            return None
        last = min(int(last_text), size - 1) if last_text else size - 1
    else:  # a suffix: the last N bytes
        suffix = int(last_text)
        first, last = (max(0, size - suffix) if suffix else size), size - 1
    return "unsatisfiable" if first >= size else (first, last)


class MediaServer(LoopbackHttpServer):
    """GET /<key> from the media bucket, as CloudFront would serve it."""

    def __init__(
        self,
        runtime: LocalAws,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bucket: str | None = None,
        export_env: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(host, port)
        self.runtime = runtime
        self.bucket = bucket or runtime.bucket
        self.export_env = export_env
        self.clock = clock
        self.refusals = 0  # requests answered 403 (unsigned, expired, badly signed)

    def start(self) -> MediaServer:
        super().start()
        if self.export_env:
            self.runtime.update_env({Env.MEDIA_BASE_URL: self.base_url})
        return self

    def url_for(self, key: str) -> str:
        from urllib.parse import quote

        return f"{self.base_url}/{quote(key)}"

    def handle_request(self, request: RequestHandler) -> None:
        request.read_body()
        if request.command not in ("GET", "HEAD"):
            request.send(405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain")], b"Method Not Allowed")
            return
        parts = urlsplit(request.path)
        if _VERIFICATION_FILE.match(parts.path):
            self._serve(request, VERIFICATION_PREFIX + unquote(parts.path.lstrip("/")), {})
            return
        query, signing = split_signed(parts.query)
        trusted = self.runtime.cloudfront_public_keys
        if trusted:
            resource = f"{self.base_url}{parts.path}" + (f"?{query}" if query else "")
            refusal = check_signed_url(resource, signing, trusted, self.clock())
            if refusal is not None:
                self.refusals += 1
                body = f"<Error><Code>{refusal.code}</Code><Message>{refusal.message}</Message></Error>"
                request.send(403, [("Content-Type", "text/xml")], body.encode())
                return
        version = parse_qs(query).get("versionId", [None])[0]
        self._serve(request, unquote(parts.path.lstrip("/")), {"VersionId": version} if version else {})

    def _serve(self, request: RequestHandler, key: str, version: dict[str, str]) -> None:
        s3 = self.runtime.in_process_client("s3")
        try:
            head = s3.head_object(Bucket=self.bucket, Key=key, **version) if key else None
        except s3.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code not in ("400", "404", "NoSuchKey", "NotFound", "NoSuchVersion", "InvalidArgument"):
                LOG.exception("HEAD %s failed", key)
                request.send(502, [("Content-Type", "text/plain")], b"Bad Gateway")
                return
            head = None
        if head is None:
            request.send(404, [("Content-Type", "text/plain")], b"Not Found")
            return
        size = int(head["ContentLength"])
        headers = [
            ("Content-Type", str(head.get("ContentType") or "application/octet-stream")),
            ("Accept-Ranges", "bytes"),
            ("ETag", str(head.get("ETag", ""))),
            ("Last-Modified", formatdate(head["LastModified"].timestamp(), usegmt=True)),
            ("X-Cache", "Miss from cloudfront"),
        ]
        wanted = parse_range(request.headers.get("Range"), size)
        if wanted == "unsatisfiable":
            request.send(416, [("Content-Range", f"bytes */{size}"), ("Content-Type", "text/plain")], b"")
            return
        if isinstance(wanted, tuple):
            first, last = wanted
            status = 206
            headers.append(("Content-Range", f"bytes {first}-{last}/{size}"))
        else:
            first, last, status = 0, size - 1, 200
        length = last - first + 1 if size else 0
        request.send_response(status)
        for name, value in headers:
            request.send_header(name, value)
        request.send_header("Content-Length", str(length))
        request.end_headers()
        if request.command == "HEAD" or length == 0:
            return
        self._stream(
            request, s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={first}-{last}", **version)
        )

    def _stream(self, request: RequestHandler, obj: Any) -> None:
        try:
            for chunk in obj["Body"].iter_chunks(_CHUNK):
                request.wfile.write(chunk)
        finally:
            obj["Body"].close()
