"""A real SMTP server on 127.0.0.1 for the email tests (aiosmtpd in a thread), and the settings that point the
default mailer at it. Messages are read back as the server received them: parsed, headers and parts."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

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
