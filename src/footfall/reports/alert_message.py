"""What an alert says: one notice, written as an email (plain and HTML) and as webhook JSON.

A check that finds several paths of one rule starting (or ending) an
episode at once sends one notice listing them, not one message per path: a
site-wide outage is one message. The webhook body is what Slack and
Mattermost incoming webhooks take: `text` (shown in notifications) and one
attachment with a colour, a title and a line per subject. Text from the
events (paths) is escaped for each: HTML in the email, Slack's `&`, `<`, `>`
in the webhook text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from footfall.reports.alert_rules import describe
from footfall.stores.meta_records import AlertRule

__all__ = ["MAX_LISTED", "AlertNotice", "email_message", "summary", "webhook_body"]

MAX_LISTED = 20  # subjects listed in one notice; the rest are counted
_TITLES = {
    "spike": "Traffic spike",
    "drop": "Traffic drop",
    "errors": "Server errors",
    "slow": "Slow paths",
}
_COLOURS = {"fired": "#d9363e", "resolved": "#2eb67d"}


@dataclass(frozen=True)
class AlertNotice:
    """A rule's episodes that started (`fired`) or ended (`resolved`) at one check.

    `subjects` maps "" (a whole-site kind) or a path to the value measured,
    or None when there is none to quote (a path with too few requests now).
    """

    rule: AlertRule
    state: str  # "fired" or "resolved"
    subjects: dict[str, float | None]
    at: datetime


def _value(kind: str, value: float | None) -> str:
    if value is None:
        return "back to normal"
    if kind == "spike":
        shown = f"{value:.0f}"
        return f"{shown} current visitor{'' if shown == '1' else 's'}"
    if kind == "drop":
        return f"{value:.0f}% of the same hour last week"
    if kind == "errors":
        return f"{value:.1f}% 5xx responses"
    return f"p95 {value:.0f} ms"


def _lines(notice: AlertNotice) -> list[str]:
    """One line per subject, worst first (plain text, unescaped)."""
    items = sorted(notice.subjects.items(), key=lambda kv: -(kv[1] or 0.0))
    lines = [
        f"{subject + ': ' if subject else ''}{_value(notice.rule.kind, value)}"
        for subject, value in items[:MAX_LISTED]
    ]
    if len(items) > MAX_LISTED:
        more = len(items) - MAX_LISTED
        lines.append(f"and {more} more path{'' if more == 1 else 's'}")
    return lines


def summary(notice: AlertNotice) -> str:
    """One line: `example.com: Traffic spike (current visitors above 100)`.

    Per-path kinds count their paths: `Server errors on 2 paths`, and
    `Slow paths: 2` (its title names the paths already).
    """
    rule = notice.rule
    title = _TITLES.get(rule.kind, rule.kind)
    word = "" if notice.state == "fired" else "resolved: "
    paths = len([s for s in notice.subjects if s])
    where = f" on {paths} path{'s' if paths != 1 else ''}" if paths else ""
    if paths and title.endswith(" paths"):
        where = f": {paths}"
    return f"{rule.site}: {word}{title}{where} ({describe(rule)})"


def email_message(notice: AlertNotice, to: str) -> EmailMessage:
    """The alert as an email to `to` (comma-separated addresses): plain text and HTML."""
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = f"[footfall] {summary(notice)}"
    when = notice.at.strftime("%Y-%m-%d %H:%M UTC")
    lines = _lines(notice)
    message.set_content(
        "\n".join([summary(notice), "", *(f"- {line}" for line in lines), "", f"Checked {when}."])
        + "\n"
    )
    colour = _COLOURS.get(notice.state, "#333333")
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    message.add_alternative(
        '<!doctype html><html><body style="font-family:sans-serif">'
        f'<h2 style="color:{colour}">{html.escape(summary(notice))}</h2>'
        f'<ul>{items}</ul><p style="color:#666">Checked {html.escape(when)}.</p>'
        "</body></html>",
        subtype="html",
    )
    return message


def _slack_escape(text: str) -> str:
    """Slack reads `<...>` as links and mentions: its three escapes, nothing more."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(notice: AlertNotice) -> dict[str, Any]:
    """`{"text": ..., "attachments": [...]}` for a Slack or Mattermost incoming webhook."""
    text = _slack_escape(summary(notice))
    detail = "\n".join(_slack_escape(line) for line in _lines(notice))
    mark = ":rotating_light:" if notice.state == "fired" else ":white_check_mark:"
    return {
        "text": f"{mark} {text}",
        "attachments": [
            {
                "fallback": text,
                "color": _COLOURS.get(notice.state, "#333333"),
                "title": _TITLES.get(notice.rule.kind, notice.rule.kind),
                "text": detail,
                "footer": f"footfall alert #{notice.rule.id}",
                "ts": int(notice.at.timestamp()),
            }
        ],
    }
