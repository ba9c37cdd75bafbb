"""`voicecoach serve`: a small web server that hands the exported sessions to the user's own phone, and takes
from it one thing only: a played session for the practice log. The only module that opens a socket; nothing else
in voicecoach touches the network."""

from __future__ import annotations

import hmac
import json
import mimetypes
import os
import re
import secrets
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import quote, unquote, urlsplit

from voicecoach.errors import VoicecoachError, shown
from voicecoach.phone import page, report

CHUNK = 64 * 1024
IDLE_SECONDS = 30           # a connection that sends nothing for this long is closed
# A request (its line and headers) must have arrived whole within this: a client trickling a byte now and
# then is cut off, not kept for ever one read timeout at a time.
REQUEST_SECONDS = 30
MAX_CONNECTIONS = 64        # at once: one phone opens a handful; more are closed at once, not given a thread
MAX_PER_ADDRESS = 24        # so that one machine on the network cannot take every place from the phone
RANGE_DIGITS = 18           # a byte offset longer than this is past any file (and int() of 4,300+ digits raises)
TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".opus": "audio/ogg", ".wav": "audio/wav",
         ".vtt": "text/vtt; charset=utf-8", ".m3u8": "audio/x-mpegurl; charset=utf-8",
         ".txt": "text/plain; charset=utf-8", ".zip": "application/zip"}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",       # the token is in every address: never pass it on
    "Cache-Control": "no-store",            # only what the user chooses to keep stays on the phone
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "media-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}


@dataclass(frozen=True)
class Site:
    """What the server may hand out: generated pages, and the listed files of one folder."""
    token: str
    folder: Path                                    # resolved
    files: dict = field(default_factory=dict)       # name -> path inside folder
    pages: dict = field(default_factory=dict)       # name under the token -> (bytes, content type)
    log: report.LogTarget | None = None             # where the page's reports go; None: the page cannot log
    # A discreet page's real titles (number -> title), each given only when asked for: see share.real_titles.
    titles: dict = field(default_factory=dict)

    def page(self, name: str):
        return self.pages.get(name)

    def file(self, name: str) -> Path | None:
        """The file called `name` if it is listed and really lies in the folder (no links out of it)."""
        path = self.files.get(name)
        if path is None:
            return None
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        return real if real.parent == self.folder and real.is_file() else None


LOG, TODAY = "log", "today.json"     # the page's report goes to LOG; TODAY says which session comes first


def site(listing: page.Listing, folder: Path, *, token: str | None = None, cert=None,
         log: report.LogTarget | None = None) -> Site:
    """The pages and files for `listing`, under a fresh long random token."""
    folder = Path(folder).resolve()
    names = [t.file for t in listing.tracks] + [t.transcript for t in listing.tracks if t.transcript]
    names += [n for n in (listing.bundle, listing.playlist, listing.readme) if n]
    for name in names:
        if not name or "/" in name or name.startswith("."):
            raise VoicecoachError(f"{folder}: {shown(name)} cannot be shared")
    pages = {
        "": (page.index_html(listing, https_fingerprint=cert.fingerprint if cert else None,
                             logging=log is not None).encode(),
             "text/html; charset=utf-8"),
        "app.js": (page.asset("app.js").encode(), "text/javascript; charset=utf-8"),
        "sw.js": (page.asset("sw.js").encode(), "text/javascript; charset=utf-8"),
        "style.css": (page.asset("style.css").encode(), "text/css; charset=utf-8"),
        "manifest.webmanifest": (page.manifest(listing).encode(), "application/manifest+json"),
        "icon.svg": (page.asset("icon.svg").encode(), "image/svg+xml"),
    }
    if cert is not None:
        pages["voicecoach.crt"] = (cert.der(), "application/x-x509-ca-cert")
    return Site(token or secrets.token_urlsafe(32), folder, {n: folder / n for n in names}, pages, log)


_TITLE = re.compile(r"title-([1-9][0-9]{0,3})\.json")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_RANGES = re.compile(r"^bytes=\s*\d*-\d*(\s*,\s*\d*-\d*)+$")


def byte_range(header: str | None, size: int):
    """(start, end inclusive) asked for by a Range header; None for the whole file; "bad" if unsatisfiable
    or malformed."""
    if not header:
        return None
    text = header.strip()
    if not text.lower().startswith("bytes="):
        return None                 # other units: the whole file is a valid answer
    found = _RANGE.match(text)
    if not found:
        # Several ranges: the whole file is a valid answer; anything else in bytes is malformed.
        return None if _RANGES.match(text) and len(text) < 200 else "bad"
    first, last = found.groups()
    if first == last == "" or len(first) > RANGE_DIGITS or len(last) > RANGE_DIGITS:
        return "bad"
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return "bad"
    return start, end


class Handler(BaseHTTPRequestHandler):
    """GET and HEAD for the page and files, POST for the log; 404 for anything not under the token."""
    # Headers and body go out in two writes: with Nagle's algorithm and delayed ACKs every request on a
    # kept-alive connection waited about 44 ms; without, 0.12-0.17 ms.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    # The base class answers a request it cannot parse (400, 505) as HTTP/0.9: a body with no headers at all.
    default_request_version = "HTTP/1.0"
    timeout = IDLE_SECONDS
    server: _Server     # only ever served by _Server, which carries the site and the visit hook

    def send_response(self, code, message=None):
        # No Server header: it would tell anyone scanning the network which program runs on this port.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def send_header(self, keyword, value):
        if keyword.lower() != "server":
            getattr(self, "_sent", set()).add(keyword.lower())
            super().send_header(keyword, value)

    def send_response_only(self, code, message=None):
        self._sent: set = set()
        super().send_response_only(code, message)

    def end_headers(self):
        # Every answer has the security headers, the base class's own errors (400, 414, 431, 501, 505) too.
        for key, value in HEADERS.items():
            if key.lower() not in self._sent:
                super().send_header(key, value)
        super().end_headers()

    def handle_one_request(self):
        self.server.deadline(self.connection, REQUEST_SECONDS)
        try:
            super().handle_one_request()
        finally:
            self.server.deadline(self.connection, None)

    def parse_request(self):
        parsed = super().parse_request()
        self.server.deadline(self.connection, None)   # the request is in; the answer may take its time
        return parsed

    def log_message(self, format, *args):       # noqa: A002 - the base class's name
        pass                                    # request lines hold the token: keep them off the terminal

    def do_HEAD(self):
        self.answer(body=False)

    def do_GET(self):
        self.answer(body=True)

    def do_POST(self):
        self.receive()

    def do_PUT(self):
        self.not_allowed()

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    def under_token(self) -> list | None:
        """The path's parts after the token, or None when it does not start with the token."""
        parts = urlsplit(self.path).path.split("/")
        # The token comes first, compared in constant time; nothing is looked at before it matches.
        if len(parts) < 2 or parts[0] != "" or not hmac.compare_digest(
                parts[1].encode("latin-1", "replace"), self.server.site.token.encode()):
            return None
        return parts[2:]

    def not_allowed(self, body: bool = True):
        # Only GET and HEAD fetch, only POST to the log writes; a request body we did not read is left unread,
        # so the connection is closed rather than reading the next request from the middle of it.
        self.close_connection = True
        rest = self.under_token()
        if rest is None:
            return self.not_found(body)
        allowed = "POST" if rest == [LOG] and self.server.site.log else "GET, HEAD"
        self._send(405, {"Content-Type": "text/plain; charset=utf-8", "Allow": allowed},
                   f"Only {allowed} here.\n".encode(), body)

    def refuse(self, status: int, reason: str):
        self.close_connection = True
        self._send(status, {"Content-Type": "text/plain; charset=utf-8"}, reason.encode() + b"\n", True)

    def receive(self):
        """POST to the log: one played session from the page, checked, then written once per request id."""
        rest, target = self.under_token(), self.server.site.log
        if rest is None or (rest == [LOG] and target is None):
            self.close_connection = True
            return self.not_found(True)
        if rest != [LOG] or target is None:
            return self.not_allowed()
        if not report.content_type_ok(self.headers.get("Content-Type")):
            return self.refuse(415, "Send the report as application/json.")
        if self.headers.get("Transfer-Encoding") is not None:
            return self.refuse(411, "Send the report with a Content-Length, not in chunks.")
        length = (self.headers.get("Content-Length") or "").strip()
        if not length.isdigit() or not length.isascii():
            return self.refuse(411, "Send the report with its Content-Length.")
        if len(length) > 9 or int(length) > report.MAX_BODY:
            return self.refuse(413, f"A report is at most {report.MAX_BODY} bytes.")
        # The body is under the same deadline as the request line and headers: one trickled a byte at a time
        # is cut off with them.
        self.server.deadline(self.connection, REQUEST_SECONDS)
        try:
            body = self.rfile.read(int(length))
        except OSError:
            body = b""
        finally:
            self.server.deadline(self.connection, None)
        if len(body) < int(length):
            self.close_connection = True        # cut off, or gone: nothing to answer, nothing recorded
            return
        try:
            said = report.parse(body, target.sessions)
            entry, new = report.record(said, target.db)
        except report.Refused as e:
            return self.refuse(e.status, e.reason)
        except VoicecoachError as e:
            # The log could not be written (read-only media, a full disk): the page keeps the report and
            # sends it again on its next visit. The reason stays on the computer's terminal.
            if target.on_log is not None:
                target.on_log(f"A session sent by the phone could not be logged yet: {e}")
            return self.refuse(503, "The computer could not write the practice log just now.")
        if target.on_log is not None:
            target.on_log(report.said(said, entry, new))
        self._send(201 if new else 200, {"Content-Type": "application/json"}, report.answer(entry, new), True)

    def _send(self, status: int, headers: dict, data: bytes = b"", body: bool = True):
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(key, value)
        self.end_headers()
        if body and data:
            self.wfile.write(data)

    def not_found(self, body: bool):
        self._send(404, {"Content-Type": "text/plain; charset=utf-8"}, b"Not found.\n", body)

    def answer(self, body: bool):
        site: Site = self.server.site
        rest = self.under_token()
        if rest is None:
            return self.not_found(body)
        if not rest:
            return self._send(308, {"Location": f"/{site.token}/"}, b"", body)
        if len(rest) == 1 and site.page(rest[0]) is not None:
            if rest[0] == "":
                self.server.visited(self.client_address[0])
            data, kind = site.page(rest[0])
            return self._send(200, {"Content-Type": kind}, data, body)
        if site.log is not None and rest == [TODAY]:
            # Worked out at each request from the log as it is now: right after the phone logs something.
            data = json.dumps(report.today(site.log)).encode()
            return self._send(200, {"Content-Type": "application/json"}, data, body)
        if site.log is not None and rest == [LOG]:
            return self.not_allowed(body)
        title = _TITLE.fullmatch(rest[0]) if len(rest) == 1 else None
        if title and int(title.group(1)) in site.titles:
            data = json.dumps({"title": site.titles[int(title.group(1))]}, ensure_ascii=False).encode()
            return self._send(200, {"Content-Type": "application/json"}, data, body)
        if len(rest) == 2 and rest[0] == "files":
            try:
                name = unquote(rest[1], errors="strict")
            except UnicodeDecodeError:
                return self.not_found(body)
            path = site.file(name)
            if path is not None:
                return self.send_file(path, body, download="download" in urlsplit(self.path).query.split("&"))
        return self.not_found(body)

    def send_file(self, path: Path, body: bool, download: bool):
        try:
            # No following a link that appeared since the check: the file must still be the one inside.
            f = os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")
        except OSError:
            return self.not_found(body)
        with f:
            size = f.seek(0, 2)
            wanted = byte_range(self.headers.get("Range"), size)
            if wanted == "bad":
                return self._send(416, {"Content-Range": f"bytes */{size}"}, b"", body)
            start, end = wanted or (0, size - 1)
            headers = {"Content-Type": TYPES.get(path.suffix.lower()) or
                       mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                       "Accept-Ranges": "bytes", "Content-Length": str(end - start + 1)}
            if download:
                headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(path.name, safe='')}"
            if wanted:
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            self.send_response(206 if wanted else 200)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if not body:
                return
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address, site: Site, tls: ssl.SSLContext | None, on_visit):
        self.site, self.tls, self.on_visit = site, tls, on_visit
        self.visitors: set = set()
        self.open: set = set()              # connections being served: stop() must end kept-alive ones too
        self.lock = threading.Lock()
        self.request_seconds = REQUEST_SECONDS
        self.deadlines: dict = {}           # connection -> monotonic time by which its request must be in
        self.clients: dict = {}             # address -> connections it has open
        super().__init__(address, Handler)
        self.watchdog = threading.Thread(target=self._cut_late, name="voicecoach-serve-deadlines", daemon=True)
        self.watchdog.start()

    def deadline(self, connection, seconds: float | None):
        """Give `connection` `seconds` to send its whole request (None: it has)."""
        with self.lock:
            if seconds is None:
                self.deadlines.pop(connection, None)
            else:
                self.deadlines[connection] = time.monotonic() + min(seconds, self.request_seconds)

    def _cut_late(self):
        # One thread for every deadline, not a timer per request; shutting the socket down ends the
        # handler's blocked read at once.
        while self.socket.fileno() != -1:
            now = time.monotonic()
            with self.lock:
                late = [c for c, t in self.deadlines.items() if t <= now]
                for connection in late:
                    del self.deadlines[connection]
            for connection in late:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            time.sleep(min(0.2, self.request_seconds / 4))

    def process_request(self, request, client_address):
        with self.lock:
            address = client_address[0]
            full = sum(self.clients.values()) >= MAX_CONNECTIONS or self.clients.get(address, 0) >= MAX_PER_ADDRESS
            if not full:
                self.clients[address] = self.clients.get(address, 0) + 1
        if full:
            self.shutdown_request(request)     # closed at once: no thread, no answer for a flood
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.lock:
                address = client_address[0]
                self.clients[address] -= 1
                if not self.clients[address]:
                    del self.clients[address]

    def close_connections(self):
        with self.lock:
            connections = list(self.open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def visited(self, address: str):
        with self.lock:
            new = address not in self.visitors
            self.visitors.add(address)
        if new and self.on_visit:
            self.on_visit(address)

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the connection's own thread, so a slow phone blocks nobody.
        if self.tls is not None:
            request.settimeout(IDLE_SECONDS)
            self.deadline(request, self.request_seconds)     # a handshake trickled byte by byte is cut off too
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
            finally:
                self.deadline(request, None)
        with self.lock:
            self.open.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self.lock:
                self.open.discard(request)
            if self.tls is not None:
                request.close()

    def handle_error(self, request, client_address):
        pass        # a phone closing a connection mid-file (seeking, pausing) is normal, not an error


class PhoneServer:
    """The running server: `url` is the private address to open on the phone."""

    def __init__(self, site: Site, host: str = "127.0.0.1", port: int = 8765, *, tls: ssl.SSLContext | None = None,
                 on_visit: Callable[[str], None] | None = None):
        self.site, self.host, self.scheme = site, host, "https" if tls else "http"
        try:
            self.httpd = _Server((host, port), site, tls, on_visit)
        except OSError as e:
            if e.errno in (98, 48):     # EADDRINUSE on Linux, macOS
                raise VoicecoachError(f"port {port} is already in use on {host}; "
                                      f"try another, e.g. --port {port + 1}") from None
            raise VoicecoachError(f"cannot listen on {host} port {port} ({e.strerror or e})") from None
        self.port = self.httpd.server_address[1]
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}/{self.site.token}/"

    def serve_forever(self) -> None:
        """Serve until Ctrl-C (KeyboardInterrupt propagates) or stop() from another thread."""
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> "PhoneServer":
        """Serve from a background thread."""
        self.thread = threading.Thread(target=self.serve_forever, name="voicecoach-serve", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join()
            self.thread = None
        self.httpd.server_close()
        self.httpd.close_connections()      # a browser's kept-alive connection would otherwise still be answered

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def tls_context(cert) -> ssl.SSLContext:
    """A server TLS context for `cert` (a certificate.Certificate)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert.cert, cert.key)
    return context


