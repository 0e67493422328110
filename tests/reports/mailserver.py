"""A real SMTP server for the reports tests: aiosmtpd on a free loopback port.

It keeps every message it accepts, with how it arrived (over TLS or not, who
logged in), so a test parses what a mail client would have received.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from tests.private_servers import free_port


@dataclass
class Received:
    """One accepted message and the session it came in."""

    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]
    tls: bool
    login: str | None


@dataclass
class MailServer:
    """The running server's address and what it has received so far."""

    host: str
    port: int
    received: list[Received] = field(default_factory=list)

    def url(self, *, scheme: str = "smtp", user: str = "", query: str = "") -> str:
        """An SMTP URL for this server (`user` is `name:password`, already percent-encoded)."""
        auth = f"{user}@" if user else ""
        return f"{scheme}://{auth}{self.host}:{self.port}" + (f"?{query}" if query else "")


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        tls = server.transport.get_extra_info("ssl_object") is not None
        login = session.auth_data.login.decode() if session.authenticated else None
        self.server.received.append(
            Received(message, envelope.mail_from, list(envelope.rcpt_tos), tls, login)
        )
        return "250 OK"


def _authenticator(users: dict[str, str]) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and users.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    return check


@contextmanager
def mail_server(
    *,
    users: dict[str, str] | None = None,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
) -> Iterator[MailServer]:
    """Run aiosmtpd until the block ends; `users` turns on AUTH (required, over plain text too).

    aiosmtpd warns about AUTH without TLS on every session; the tests that
    log in over plain text do so on purpose and filter that warning.
    """
    state = MailServer("127.0.0.1", free_port())
    options: dict[str, Any] = {}
    if users is not None:
        options.update(
            authenticator=_authenticator(users), auth_required=True, auth_require_tls=False
        )
    if starttls is not None:
        options.update(tls_context=starttls)
    if implicit_tls is not None:
        options.update(ssl_context=implicit_tls)
    controller = Controller(_Handler(state), hostname=state.host, port=state.port, **options)
    controller.start()
    try:
        yield state
    finally:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    """A throwaway self-signed certificate for 127.0.0.1, made by the openssl command."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(folder: Path) -> Certificate:
    """A certificate for 127.0.0.1 valid for a day; skips when openssl is missing."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except FileNotFoundError:
        pytest.skip("the openssl command is not installed")
    return Certificate(cert, key)
