"""`send_email` against a real SMTP server: plain, STARTTLS, implicit TLS, AUTH, refusals."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from tests.reports.mailserver import mail_server, make_certificate

from footfall.errors import ConfigurationError
from footfall.reports.smtp import SmtpError, parse_smtp_url, send_email

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def _message(to: str = "owner@example.com") -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = "Weekly report"
    message.set_content("hello")
    return message


def test_url_forms_and_percent_decoded_credentials() -> None:
    target = parse_smtp_url(
        "smtp://me%40example.com:p%40ss%3Aw%2Frd@mail.example.com:587?from=r@example.com"
    )
    assert (target.host, target.port, target.implicit_tls, target.starttls) == (
        "mail.example.com",
        587,
        False,
        "auto",
    )
    assert (target.username, target.password, target.sender) == (
        "me@example.com",
        "p@ss:w/rd",
        "r@example.com",
    )
    assert parse_smtp_url("smtps://u:p@mail.example.com").port == 465
    assert parse_smtp_url("smtp://relay").port == 25
    assert parse_smtp_url("smtp://relay?starttls=require").starttls == "require"
    for bad in (
        "http://relay",
        "smtp://",
        "smtp://relay?starttls=maybe",
        "smtp://relay?password=x",
    ):
        with pytest.raises(ConfigurationError):
            parse_smtp_url(bad)


def test_plain_relay_without_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_REPORTS_FROM", "Footfall <reports@example.com>")
    with mail_server() as server:
        send_email(server.url(), _message())
    [got] = server.received
    assert got.mail_from == "reports@example.com"
    assert got.rcpt_tos == ["owner@example.com"]
    assert got.message["From"] == "Footfall <reports@example.com>"
    assert got.message.get_content().strip() == "hello"
    assert not got.tls and got.login is None


def test_from_parameter_wins_over_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_REPORTS_FROM", "other@example.com")
    with mail_server() as server:
        send_email(server.url(query="from=stats%40example.com"), _message())
    assert server.received[0].mail_from == "stats@example.com"


def test_no_sender_anywhere_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOOTFALL_REPORTS_FROM", raising=False)
    with mail_server() as server, pytest.raises(ConfigurationError, match="FOOTFALL_REPORTS_FROM"):
        send_email(server.url(), _message())
    assert server.received == []


def test_login_over_plain_text_and_a_wrong_password() -> None:
    users = {"me@example.com": "p@ss:w/rd"}
    with mail_server(users=users) as server:
        send_email(
            server.url(user="me%40example.com:p%40ss%3Aw%2Frd", query="from=r@example.com"),
            _message(),
        )
        with pytest.raises(SmtpError, match="refused the login") as caught:
            send_email(
                server.url(user="me%40example.com:nope", query="from=r@example.com"), _message()
            )
    assert "nope" not in str(caught.value)
    [got] = server.received
    assert got.login == "me@example.com" and not got.tls


def test_starttls_then_login(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)
    with mail_server(users={"me": "secret"}, starttls=cert.server_context()) as server:
        url = server.url(user="me:secret", query="from=r@example.com&starttls=require")
        send_email(url, _message(), context=cert.client_context())
        # The same through ?cafile=, as a deployment with a private CA configures it.
        send_email(url + f"&cafile={cert.cert}", _message())
    assert [(r.tls, r.login) for r in server.received] == [(True, "me"), (True, "me")]


def test_starttls_checks_the_certificate(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)
    with mail_server(starttls=cert.server_context()) as server:
        with pytest.raises(SmtpError, match="CERTIFICATE_VERIFY_FAILED"):
            send_email(server.url(query="from=r@example.com"), _message())
    assert server.received == []


def test_starttls_require_refuses_a_server_without_it() -> None:
    with mail_server() as server:
        with pytest.raises(SmtpError, match="does not offer STARTTLS"):
            send_email(server.url(query="from=r@example.com&starttls=require"), _message())
    assert server.received == []


def test_implicit_tls(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)
    with mail_server(users={"me": "secret"}, implicit_tls=cert.server_context()) as server:
        send_email(
            server.url(scheme="smtps", user="me:secret", query="from=r@example.com"),
            _message(),
            context=cert.client_context(),
        )
    assert [(r.tls, r.login) for r in server.received] == [(True, "me")]


def test_unreachable_server_names_it_without_the_password() -> None:
    with mail_server() as server:
        url = server.url(user="me:hunter2", query="from=r@example.com")
    with pytest.raises(SmtpError, match="cannot reach") as caught:
        send_email(url, _message(), timeout=2)
    assert "hunter2" not in str(caught.value)
