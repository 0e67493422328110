"""Send one email through the server an SMTP URL names, with the standard library only.

Reports and alerts both end in "hand this message to the mail server", and the
server is configured as one URL (`FOOTFALL_SMTP_URL`) so it travels like the
store URLs do: `smtp://user:pass@host:587` upgrades with STARTTLS when the
server offers it (`?starttls=require` refuses to go on in plain text),
`smtps://user:pass@host:465` speaks TLS from the first byte, and
`smtp://host:25` logs in as nobody. Credentials are percent-decoded, so a
password may hold `@`, `:` or `/`. The sender comes from `?from=`, else
`FOOTFALL_REPORTS_FROM`, else the message's own `From`.

Errors name the server through `redact_url`, never with its password.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from footfall import settings
from footfall.errors import ConfigurationError, FootfallError
from footfall.redact import redact_url

__all__ = ["SmtpError", "SmtpTarget", "parse_smtp_url", "send_email"]

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
STARTTLS_MODES = ("auto", "require", "off")


class SmtpError(FootfallError):
    """The mail server could not be reached or refused the message; the text says which."""


@dataclass(frozen=True)
class SmtpTarget:
    """An SMTP URL taken apart: where to connect, how to secure it, who logs in and sends."""

    host: str
    port: int
    implicit_tls: bool
    starttls: str  # one of STARTTLS_MODES; `auto` upgrades when the server offers it
    username: str | None
    password: str | None
    sender: str | None
    cafile: str | None
    helo: str | None


def _one(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[-1] if values else None


def parse_smtp_url(url: str) -> SmtpTarget:
    """Check and take apart an `smtp://` or `smtps://` URL; `ConfigurationError` if it is wrong."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"bad SMTP URL {shown}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ConfigurationError(f"an SMTP URL starts with smtp:// or smtps://, not {shown}")
    if not parts.hostname:
        raise ConfigurationError(f"the SMTP URL {shown} names no host")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"from", "starttls", "cafile", "helo"}
    if unknown:
        raise ConfigurationError(
            f"the SMTP URL {shown} has unknown parameters: {', '.join(sorted(unknown))}"
        )
    starttls = (_one(query, "starttls") or "auto").lower()
    if starttls not in STARTTLS_MODES:
        raise ConfigurationError(f"starttls= must be one of {', '.join(STARTTLS_MODES)}")
    if scheme == "smtps" and starttls == "require":
        starttls = "auto"  # smtps is encrypted from the start: nothing left to require
    return SmtpTarget(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[scheme],
        implicit_tls=scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        sender=_one(query, "from") or None,
        cafile=_one(query, "cafile") or None,
        helo=_one(query, "helo") or None,
    )


def sender_for(target: SmtpTarget, message: EmailMessage) -> str:
    """The sender address: `?from=`, else `FOOTFALL_REPORTS_FROM`, else the message's `From`."""
    sender = target.sender or settings.REPORTS_FROM() or message.get("From")
    if not sender:
        raise ConfigurationError(
            "no sender address: add ?from=reports@example.com to FOOTFALL_SMTP_URL"
            " or set FOOTFALL_REPORTS_FROM"
        )
    return str(sender)


def send_email(
    url: str,
    message: EmailMessage,
    timeout: float = 30.0,
    *,
    context: ssl.SSLContext | None = None,
) -> None:
    """Deliver `message` to its `To`/`Cc`/`Bcc` recipients through the server `url` names.

    The message gets a `From` header when it has none. `timeout` bounds each
    network operation (connect, every command). `context` verifies the
    server's certificate (default: the system's trusted roots, or `?cafile=`).
    Raises `ConfigurationError` for a wrong URL and `SmtpError` when the
    server cannot be reached, will not encrypt under `starttls=require`,
    refuses the login or refuses the message.
    """
    target = parse_smtp_url(url)
    sender = sender_for(target, message)
    if message.get("From") is None:
        message["From"] = sender
    envelope_from = parseaddr(sender)[1] or sender
    shown = redact_url(url)
    tls = _Tls(target, context)
    try:
        client = _connect(target, timeout, tls)
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpError(f"cannot reach the mail server {shown}: {exc}") from exc
    try:
        with client:
            _secure_and_login(client, target, tls, shown)
            refused = client.send_message(message, from_addr=envelope_from)
    except SmtpError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise SmtpError(f"the mail server {shown} refused the login: {exc}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpError(f"the mail server {shown} did not take the message: {exc}") from exc
    if refused:
        raise SmtpError(f"the mail server {shown} refused recipients: {', '.join(sorted(refused))}")


class _Tls:
    """The TLS context, made on first use: loading the system's trusted roots takes
    tens of milliseconds, more than the whole exchange with a local relay."""

    def __init__(self, target: SmtpTarget, given: ssl.SSLContext | None) -> None:
        self._target = target
        self._context = given

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl.create_default_context(cafile=self._target.cafile)
        return self._context


def _connect(target: SmtpTarget, timeout: float, tls: _Tls) -> smtplib.SMTP:
    if target.implicit_tls:
        return smtplib.SMTP_SSL(
            target.host,
            target.port,
            local_hostname=target.helo,
            timeout=timeout,
            context=tls.context(),
        )
    return smtplib.SMTP(target.host, target.port, local_hostname=target.helo, timeout=timeout)


def _secure_and_login(client: smtplib.SMTP, target: SmtpTarget, tls: _Tls, shown: str) -> None:
    client.ehlo_or_helo_if_needed()
    if not target.implicit_tls and target.starttls != "off":
        if client.has_extn("starttls"):
            client.starttls(context=tls.context())
            client.ehlo()
        elif target.starttls == "require":
            raise SmtpError(
                f"the mail server {shown} does not offer STARTTLS and the URL says starttls=require"
            )
    if target.username is not None:
        client.login(target.username, target.password or "")
