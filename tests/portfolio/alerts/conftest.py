"""A real SMTP server on 127.0.0.1 for the email tests (aiosmtpd in a thread), and the settings that point the
default mailer at it; messages are read back as the server received them: parsed, headers and parts. A real
HTTP server on 127.0.0.1 for the chat webhooks, keeping what was posted."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            return "451 Try again later"
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings, smtp_server) -> Mailbox:
    """The default mailer sends to the test's SMTP server (as ``SPM_EMAIL_URL=smtp://127.0.0.1:<port>``)."""
    from spm.mail import mailers

    controller, mailbox = smtp_server
    settings.MAILERS = mailers(f"smtp://127.0.0.1:{controller.port}?timeout=5")
    return mailbox


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


class ChatServer:
    """A webhook receiver on 127.0.0.1 (as Slack or Teams would be): keeps each JSON body posted to it, and
    answers ``status`` (set 500 to play a service that is down)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                if server.status < 300:
                    server.bodies.append(body)
                self.send_response(server.status)
                self.end_headers()
                self.wfile.write(b"ok" if server.status < 300 else b"service unavailable")

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"


@pytest.fixture
def chat_server():
    server = ChatServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
