#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 for Tidings' integration tests (aiosmtpd).

Usage:
  smtp_server.py --port-file PATH [--out PATH] [--auth USER:PASS] [--reject-rcpt ADDR]...
                 [--port N]

--port-file PATH   The server listens on a free port (or --port N) and, once it accepts
                   connections, writes the port number (decimal, no newline) to PATH atomically
                   (temporary file + rename). Poll for PATH to exist, then read it.
--out PATH         Appends one JSON object per received message (default: stdout), written in a
                   single write() before the 250 reply to DATA, so it is there when the client
                   sees success:
                     {"mail_from": str, "rcpt_tos": [str], "data": str, "data_encoding":
                      "utf-8"|"latin-1", "mail_options": [str], "rcpt_options": [str],
                      "auth_user": str|null, "peer": "127.0.0.1:PORT"}
                   "data" is the message as received (CRLF line ends, dot-unstuffed), decoded as
                   UTF-8, or as Latin-1 if it is not valid UTF-8.
--auth USER:PASS   Require AUTH (PLAIN or LOGIN) before MAIL; plain-text auth is allowed without
                   TLS because this only listens on loopback. Wrong credentials get 535.
--reject-rcpt ADDR Answer "550 5.1.1" to RCPT TO:<ADDR> (case-insensitive; repeatable). Accepted
                   recipients still go through.

--no-smtputf8      Do not advertise SMTPUTF8 (RFC 6531), as many relays still do not.
--hold-file PATH   While PATH holds a number N, messages after the first N are recorded but
                   their 250 waits until N grows or the file goes (a test's kill point).

SMTPUTF8 (unless --no-smtputf8) and 8BITMIME are advertised. SIGTERM or SIGINT: stop
listening and exit 0.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import warnings

from recording import Hold, decode, write_port_file  # beside this script

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:  # pragma: no cover
    sys.stderr.write("smtp_server.py: aiosmtpd is missing: python3 -m pip install aiosmtpd\n")
    sys.exit(3)


class Recorder:
    """aiosmtpd handler: checks recipients and records each message."""

    def __init__(self, out_fd: int, reject: set[str], hold: Hold):
        self.out_fd = out_fd
        self.reject = reject
        self.hold = hold

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        text, encoding = decode(raw)
        peer = session.peer
        if isinstance(peer, tuple):
            peer = f"{peer[0]}:{peer[1]}"
        auth_user = None
        if isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode("utf-8", "replace")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": text,
            "data_encoding": encoding,
            "mail_options": list(envelope.mail_options),
            "rcpt_options": list(envelope.rcpt_options),
            "auth_user": auth_user,
            "peer": peer,
        }
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        os.write(self.out_fd, line)  # one write on an O_APPEND fd: readers never see half a line
        place = self.hold.place()
        while self.hold.holds(place):
            await asyncio.sleep(0.005)
        return "250 2.0.0 OK: queued"


def make_authenticator(user: str, password: str):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode("utf-8")
            and auth_data.password == password.encode("utf-8")
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate


async def serve(args) -> int:
    if args.out:
        out_fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    else:
        out_fd = sys.stdout.fileno()
    handler = Recorder(out_fd, {a.lower() for a in args.reject_rcpt}, Hold(args.hold_file))

    kwargs = {}
    if args.auth is not None:
        user, sep, password = args.auth.partition(":")
        if not sep or not user:
            sys.stderr.write("smtp_server.py: --auth expects USER:PASS\n")
            return 2
        kwargs.update(
            authenticator=make_authenticator(user, password),
            auth_required=True,
            auth_require_tls=False,
        )

    def factory():
        return SMTP(
            handler,
            hostname="localhost",  # avoids socket.getfqdn(), which can stall on DNS
            ident="tidings-test-smtp",
            decode_data=False,
            enable_SMTPUTF8=not args.no_smtputf8,
            **kwargs,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host="127.0.0.1", port=args.port)
    port = server.sockets[0].getsockname()[1]
    # create_server() has bound and listen()ed: connections are accepted from now on.
    if args.port_file:
        write_port_file(args.port_file, port)
    sys.stderr.write(f"smtp_server.py: listening on 127.0.0.1:{port}\n")

    stop = asyncio.Event()
    # A parent may have spawned us with these blocked (threads of a Swift test runner block
    # signals they wait on); a blocked SIGTERM would never reach the handler.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()
    if args.out:
        os.close(out_fd)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="SMTP test server on 127.0.0.1 (aiosmtpd)")
    parser.add_argument("--port-file", help="write the listening port here (atomically)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free)")
    parser.add_argument("--out", help="append one JSON line per message here (default: stdout)")
    parser.add_argument("--auth", metavar="USER:PASS", help="require AUTH PLAIN/LOGIN")
    parser.add_argument("--reject-rcpt", metavar="ADDR", action="append", default=[],
                        help="answer 550 for this recipient (repeatable)")
    parser.add_argument("--no-smtputf8", action="store_true", help="do not advertise SMTPUTF8")
    parser.add_argument("--hold-file", help="hold 250s past the number this file holds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # "Requiring AUTH while not requiring TLS": intended, this only listens on loopback.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
