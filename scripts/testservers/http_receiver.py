#!/usr/bin/env python3
"""A real HTTP/1.1 server on 127.0.0.1 that records webhook requests, for integration tests.

Usage:
  http_receiver.py --port-file PATH [--out PATH] [--status CODE] [--port N]

--port-file PATH  Listens on a free port (or --port N) and, once it accepts connections, writes the
                  port number (decimal, no newline) to PATH atomically (temporary file + rename).
--out PATH        Appends one JSON object per request (default: stdout), written in a single
                  write() before the response is sent, so it is there when the client sees it:
                    {"method": str, "path": str (with query string), "headers": {lower-case
                     name: value}, "body": str, "body_encoding": "utf-8"|"latin-1"}
                  Repeated headers are joined with ", ". The body is decoded as UTF-8, or as
                  Latin-1 if it is not valid UTF-8. Chunked request bodies are supported.
--status CODE     Default response status (default 204).
--hold-file PATH  While PATH holds a number N, requests after the first N are recorded but
                  not answered until N grows or the file goes (a test's kill point).
--secret WHSEC    Verify each request's Standard Webhooks signature with the official
                  `standardwebhooks` package and this whsec_ secret; the record then carries
                  "verified": true, or false with "verify_error": str. Requests are recorded
                  and answered as usual either way.

Per-request control through the path:
  /status/NNN           answer NNN instead of the default; 3xx answers carry
                        "Location: /redirected"
  ?retry_after=S        add "Retry-After: S" to the response (any path)
  ?delay=S              sleep S seconds (float) before answering (any path; for timeout tests)
  ?echo=1               answer with the request body as the response body, as some gateways
                        quote a refused request back

Responses are HTTP/1.1 with keep-alive. Every response except 1xx/204/304 and HEAD carries a
Content-Length (and a short text body); 204 and 304 carry none, as RFC 9110 requires.
Nothing is logged per request. SIGTERM or SIGINT: stop and exit 0.
"""

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from recording import Hold, decode, write_port_file  # beside this script

STATUS_PATH = re.compile(r"^/status/([1-5][0-9][0-9])/?$")
NO_BODY = {204, 304}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def version_string(self):
        return "tidings-test-http/1"

    def log_message(self, format, *args):  # quiet
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers, up to the empty line
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)  # CRLF after the chunk
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self):
        body = self._read_body()
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        text, encoding = decode(body)
        record = {
            "method": self.command,
            "path": self.path,
            "headers": headers,
            "body": text,
            "body_encoding": encoding,
        }
        if self.server.verifier is not None:
            try:
                self.server.verifier.verify(body, headers)
                record["verified"] = True
            except Exception as error:  # WebhookVerificationError, or a malformed header
                record["verified"] = False
                record["verify_error"] = f"{type(error).__name__}: {error}"
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        os.write(self.server.out_fd, line)  # one write on an O_APPEND fd
        place = self.server.hold.place()
        while self.server.hold.holds(place):
            time.sleep(0.005)

        url = urlsplit(self.path)
        query = parse_qs(url.query)
        status = self.server.default_status
        match = STATUS_PATH.match(url.path)
        if match:
            status = int(match.group(1))
        if "delay" in query:
            try:
                time.sleep(max(0.0, float(query["delay"][0])))
            except ValueError:
                pass

        self.send_response(status)
        if 300 <= status < 400 and status != 304:
            self.send_header("Location", "/redirected")
        if "retry_after" in query:
            self.send_header("Retry-After", query["retry_after"][0])
        if status in NO_BODY or status < 200:
            self.end_headers()
            return
        payload = f"{status} {self.responses.get(status, ('',))[0]}\n".encode()
        if "echo" in query:
            payload += body
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True  # do not wait for idle keep-alive connections at shutdown
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, out_fd: int, default_status: int, verifier=None, hold=None):
        super().__init__(address, Handler)
        self.hold = hold or Hold(None)
        self.out_fd = out_fd
        self.default_status = default_status
        self.verifier = verifier

    def handle_error(self, request, client_address):
        # Clients hanging up mid-request are normal in tests (timeouts, cancellation).
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main() -> int:
    parser = argparse.ArgumentParser(description="HTTP request recorder on 127.0.0.1")
    parser.add_argument("--port-file", help="write the listening port here (atomically)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free)")
    parser.add_argument("--out", help="append one JSON line per request here (default: stdout)")
    parser.add_argument("--status", type=int, default=204, help="default response status (204)")
    parser.add_argument("--secret", help="verify Standard Webhooks signatures with this whsec_ secret")
    parser.add_argument("--hold-file", help="hold answers past the number this file holds")
    args = parser.parse_args()
    if not 200 <= args.status <= 599:
        parser.error("--status must be between 200 and 599")

    if args.out:
        out_fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    else:
        out_fd = sys.stdout.fileno()

    verifier = None
    if args.secret:
        from standardwebhooks.webhooks import Webhook  # the official package, from PyPI

        verifier = Webhook(args.secret)
    server = Server(("127.0.0.1", args.port), out_fd, args.status, verifier, Hold(args.hold_file))  # bound and listening
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    if args.port_file:
        write_port_file(args.port_file, port)
    sys.stderr.write(f"http_receiver.py: listening on 127.0.0.1:{port}\n")

    stop = threading.Event()
    # A parent may have spawned us with these blocked (threads of a Swift test runner block
    # signals they wait on); a blocked SIGTERM would never reach the handler.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
