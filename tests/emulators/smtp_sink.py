"""An SMTP server for tests that keeps every message it accepts.

Speaks ESMTP with STARTTLS, implicit TLS (a second port), AUTH PLAIN and AUTH
LOGIN, and answers wrong credentials with 535 as real servers do. Messages are
kept in memory, written as JSON files to ``--maildir`` and listed over HTTP
(``GET /messages``; ``DELETE /messages`` clears). Standard library only; started
and stopped like the GitLab emulator beside it, whose helpers it uses.
"""

import base64
import binascii
import email
import email.policy
import json
import os
import socketserver
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from .gitlab_emulator import BackgroundServers, listener_arguments, send_json, serve_until_interrupted
except ImportError:  # run as a script: python3 smtp_sink.py
    from gitlab_emulator import BackgroundServers, listener_arguments, send_json, serve_until_interrupted


class SMTPSession(socketserver.StreamRequestHandler):
    """One SMTP conversation; ``self.server.sink`` is the owning SMTPSink."""

    timeout = 60

    def setup(self):
        if getattr(self.server, "implicit_tls", False):
            self.request = self.server.sink.tls_context.wrap_socket(self.request, server_side=True)
        super().setup()
        self.tls = getattr(self.server, "implicit_tls", False)
        self.user = None
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpt_to = []

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(65536)
        if not line:
            raise ConnectionError("client went away")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def handle(self):
        sink = self.server.sink
        self.reply("220 smtp.test ESMTP chatops test sink")
        while True:
            try:
                line = self.readline()
            except (ConnectionError, OSError):
                return
            verb, _sep, arg = line.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                self.reset()
                if verb == "HELO":
                    self.reply("250 smtp.test")
                    continue
                lines = ["smtp.test", "8BITMIME", "SIZE 10485760"]
                if sink.tls_context and not self.tls:
                    lines.append("STARTTLS")
                if self.tls or not sink.require_tls:
                    lines.append("AUTH PLAIN LOGIN")
                for text in lines[:-1]:
                    self.reply("250-" + text)
                self.reply("250 " + lines[-1])
            elif verb == "STARTTLS":
                if not sink.tls_context or self.tls:
                    self.reply("502 5.5.1 STARTTLS not available")
                    continue
                self.reply("220 2.0.0 Ready to start TLS")
                self.request = sink.tls_context.wrap_socket(self.request, server_side=True)
                self.rfile = self.request.makefile("rb")
                self.wfile = self.request.makefile("wb")
                self.tls = True
                self.reset()
            elif verb == "AUTH":
                self.auth(arg)
            elif verb == "MAIL":
                if sink.require_auth and self.user is None:
                    self.reply("530 5.7.0 Authentication required")
                    continue
                self.reset()
                self.mail_from = arg.partition(":")[2].strip().strip("<>").split(">")[0]
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                if self.mail_from is None:
                    self.reply("503 5.5.1 Error: need MAIL command")
                    continue
                self.rcpt_to.append(arg.partition(":")[2].strip().strip("<>").split(">")[0])
                self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not self.rcpt_to:
                    self.reply("503 5.5.1 Error: need RCPT command")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self.data()
            elif verb == "RSET":
                self.reset()
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")

    def auth(self, arg):
        sink = self.server.sink
        if sink.require_tls and not self.tls:
            self.reply("538 5.7.11 Encryption required for requested authentication mechanism")
            return
        mechanism, _sep, initial = arg.partition(" ")
        try:
            if mechanism.upper() == "PLAIN":
                if not initial:
                    self.reply("334 ")
                    initial = self.readline()
                _authzid, user, password = base64.b64decode(initial).decode().split("\0")
            elif mechanism.upper() == "LOGIN":
                if initial:
                    user = base64.b64decode(initial).decode()
                else:
                    self.reply("334 VXNlcm5hbWU6")
                    user = base64.b64decode(self.readline()).decode()
                self.reply("334 UGFzc3dvcmQ6")
                password = base64.b64decode(self.readline()).decode()
            else:
                self.reply("504 5.5.4 Unrecognized authentication type")
                return
        except (ValueError, binascii.Error):
            self.reply("501 5.5.2 Cannot decode response")
            return
        if user == sink.user and password == sink.password:
            self.user = user
            self.reply("235 2.7.0 Authentication successful")
        else:
            self.reply("535 5.7.8 Authentication credentials invalid")

    def data(self):
        lines = []
        while True:
            line = self.readline()
            if line == ".":
                break
            lines.append(line[1:] if line.startswith("..") else line)
        raw = "\r\n".join(lines) + "\r\n"
        parsed = email.message_from_string(raw, policy=email.policy.default)
        self.server.sink.store({
            "mail_from": self.mail_from, "rcpt_to": list(self.rcpt_to), "data": raw,
            "subject": str(parsed.get("Subject", "")), "tls": self.tls,
            "implicit_tls": getattr(self.server, "implicit_tls", False), "auth_user": self.user,
            "received_at": time.time(),
        })
        self.reply("250 2.0.0 Ok: queued")
        self.reset()


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _MessagesHTTP(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path.rstrip("/") != "/messages":
            send_json(self, 404, {"error": "not found"})
            return
        send_json(self, 200, self.server.sink.messages)

    def do_DELETE(self):
        self.server.sink.clear()
        send_json(self, 200, [])


class SMTPSink(BackgroundServers):
    """Background SMTP server (and optional TLS port and HTTP readout)."""

    def __init__(self, host="127.0.0.1", port=0, port_tls=None, tls_cert=None, tls_key=None,
                 user=None, password=None, maildir=None, require_auth=False, require_tls=False,
                 http_port=None):
        self.user, self.password = user, password
        self.require_auth, self.require_tls = require_auth, require_tls
        self.maildir = maildir
        self.messages = []
        self.lock = threading.Lock()
        self.tls_context = None
        if tls_cert:
            self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_context.load_cert_chain(tls_cert, tls_key)
        self.servers = [self._smtp(host, port, implicit_tls=False)]
        self.tls_server = None
        if port_tls is not None and self.tls_context:
            self.tls_server = self._smtp(host, port_tls, implicit_tls=True)
            self.servers.append(self.tls_server)
        self.http = None
        if http_port is not None:
            self.http = ThreadingHTTPServer((host, http_port), _MessagesHTTP)
            self.http.sink = self
            self.servers.append(self.http)

    def _smtp(self, host, port, implicit_tls):
        server = _TCPServer((host, port), SMTPSession)
        server.sink = self
        server.implicit_tls = implicit_tls
        return server

    @property
    def port(self):
        return self.servers[0].server_address[1]

    @property
    def port_tls(self):
        return self.tls_server.server_address[1] if self.tls_server else None

    def store(self, message):
        with self.lock:
            self.messages.append(message)
            if self.maildir:
                os.makedirs(self.maildir, exist_ok=True)
                name = os.path.join(self.maildir, f"{len(self.messages):05d}.json")
                with open(name, "w", encoding="utf-8") as handle:
                    json.dump(message, handle)

    def clear(self):
        with self.lock:
            self.messages.clear()


def main():
    parser = listener_arguments(__doc__.splitlines()[0], 25, "--port-tls")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--maildir")
    parser.add_argument("--require-auth", action="store_true")
    parser.add_argument("--require-tls", action="store_true")
    parser.add_argument("--http-port", type=int)
    args = parser.parse_args()
    sink = SMTPSink(args.host, args.port, args.port_tls, args.tls_cert, args.tls_key, args.user,
                    args.password, args.maildir, args.require_auth, args.require_tls, args.http_port)
    serve_until_interrupted(sink, lambda s: f"SMTP sink on port {s.port} (TLS {s.port_tls}, HTTP {args.http_port})")


if __name__ == "__main__":
    main()
