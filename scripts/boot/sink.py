#!/usr/bin/env python3
"""The boot test's receivers inside the guest: an SMTP server on 127.0.0.1:2525 and an HTTP
server on 127.0.0.1:9090. Each message accepted is written to /var/lib/boot-sink/ as one file.
Mail to bounce@... is refused (550), so the daemon has a warning to log. Standard library only:
the guest is a minimal Debian with python3."""
import asyncio
import http.server
import os
import threading

SINK = "/var/lib/boot-sink"
os.makedirs(SINK, exist_ok=True)
counter = 0
lock = threading.Lock()


def keep(kind, data):
    global counter
    with lock:
        counter += 1
        with open(os.path.join(SINK, f"{counter:05d}.{kind}"), "wb") as f:
            f.write(data)


class Hooks(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        keep("http", self.path.encode() + b"\n" + body)
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"sid":"SMboot"}')

    def log_message(self, *args):
        pass


async def smtp(reader, writer):
    writer.write(b"220 boot-sink ESMTP\r\n")
    data, in_data = [], False
    while line := await reader.readline():
        if in_data:
            if line == b".\r\n":
                keep("eml", b"".join(data))
                data, in_data = [], False
                writer.write(b"250 2.0.0 queued\r\n")
            else:
                data.append(line)
            continue
        verb = line[:4].upper()
        if verb == b"EHLO":
            writer.write(b"250-boot-sink\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
        elif verb == b"AUTH":
            # PLAIN with the credentials on the line, or a 334 challenge for them first.
            if len(line.split()) < 3:
                writer.write(b"334 \r\n")
                await writer.drain()
                await reader.readline()
            writer.write(b"235 2.7.0 accepted\r\n")
        elif verb == b"RCPT" and b"bounce@" in line:
            writer.write(b"550 5.1.1 no such user\r\n")
        elif verb == b"DATA":
            in_data = True
            writer.write(b"354 go ahead\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 bye\r\n")
            await writer.drain()
            break
        else:
            writer.write(b"250 ok\r\n")
        await writer.drain()
    writer.close()


async def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 9090), Hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    smtp_server = await asyncio.start_server(smtp, "127.0.0.1", 2525)
    async with smtp_server:
        await smtp_server.serve_forever()


asyncio.run(main())
