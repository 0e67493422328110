"""A `Report` as an email: subject, a text/plain part and a text/html part.

Mail clients run no scripts and many show no SVG or CSS layout, so the HTML
part is tables with inline styles, and the chart is a row of table cells whose
coloured inner cell is as tall as the day's visitors. The text part says the
same for clients (and people) that read plain text. Both come from Jinja2
templates in `reports/templates/`, autoescaped: page paths and source names
are whatever visitors sent.

A recipient's unsubscribe link (and the `List-Unsubscribe` header, RFC 8058
one-click) points at `$FOOTFALL_PUBLIC_URL/reports/unsubscribe?token=...`;
without that setting the report carries no link.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from footfall import settings
from footfall.reports.content import Report

__all__ = [
    "CHART_HEIGHT",
    "HTML_TEMPLATES",
    "UNSUBSCRIBE_PATH",
    "Rendered",
    "dashboard_url",
    "message",
    "render",
    "unsubscribe_url",
]

UNSUBSCRIBE_PATH = "/reports/unsubscribe"
CHART_HEIGHT = 120  # pixels of the tallest bar
TEXT_BAR = 30  # characters of the longest bar in the text part

_LABELS = {
    "visitors": "Visitors",
    "visits": "Visits",
    "pageviews": "Pageviews",
    "bounce_rate": "Bounce rate",
    "visit_duration": "Visit duration",
}
_UP, _DOWN, _FLAT = "#16a34a", "#dc2626", "#71717a"

# The HTML templates of the package (the report, the unsubscribe page), autoescaped.

HTML_TEMPLATES = Environment(
    loader=PackageLoader("footfall.reports", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_text = Environment(
    loader=PackageLoader("footfall.reports", "templates"),
    autoescape=select_autoescape(disabled_extensions=("txt",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


# The default policy folds a header longer than 78 characters, and a URL (no
# spaces to fold at) then becomes an RFC 2047 encoded word, which no client
# reads as a link: List-Unsubscribe must stay one line, within SMTP's 998.
_POLICY = email.policy.default.clone(max_line_length=998)


@dataclass(frozen=True)
class Rendered:
    """A report as words: what the message is made of."""

    subject: str
    text: str
    html: str


def _public_base() -> str | None:
    base = settings.PUBLIC_URL()
    return base.rstrip("/") if base else None


def unsubscribe_url(token: str) -> str | None:
    """The link that ends one subscription, or None without `$FOOTFALL_PUBLIC_URL`."""
    base = _public_base()
    return f"{base}{UNSUBSCRIBE_PATH}?{urlencode({'token': token})}" if base else None


def dashboard_url(site: str) -> str | None:
    base = _public_base()
    return f"{base}/{quote(site, safe='')}" if base else None


def _count(n: Any) -> str:
    return f"{int(n or 0):,}"


def _duration(seconds: Any) -> str:
    s = int(seconds or 0)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def _value(metric: str, value: Any) -> str:
    if metric == "bounce_rate":
        return f"{int(value or 0)}%"
    if metric == "visit_duration":
        return _duration(value)
    return _count(value)


def _change(metric: str, change: Any, value: Any) -> tuple[str, str]:
    """(text, colour) of a change as the stats API gives it; a rise of the bounce rate is bad."""
    if change is None:
        return ("new" if value and metric != "bounce_rate" else ""), _FLAT
    unit = " pp" if metric == "bounce_rate" else "%"
    number = float(change)
    text = f"{number:+g}{unit}" if number else f"0{unit}"
    good = number < 0 if metric == "bounce_rate" else number > 0
    return text, (_FLAT if not number else _UP if good else _DOWN)


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def _period_label(report: Report) -> str:
    p = report.period
    if p.kind == "month":
        return f"{p.first:%B %Y}"
    return f"{_day(p.first)} - {_day(p.last)} {p.last.year}"


def _chart(report: Report) -> tuple[list[dict[str, Any]], int]:
    values = [int(row.get("visitors") or 0) for row in report.chart]
    top = max(values, default=0)
    bars = []
    for i, (row, n) in enumerate(zip(report.chart, values, strict=True)):
        day = date.fromisoformat(str(row["date"])[:10])
        height = round(CHART_HEIGHT * n / top) if top else 0
        if report.period.kind == "week":
            tick = f"{day:%a}"
        else:
            tick = str(day.day) if i == 0 or day.day % 5 == 0 else ""
        bars.append(
            {
                "date": day.isoformat(),
                "label": _day(day),
                "tick": tick,
                "raw": n,
                "value": _count(n),
                "height": max(height, 2) if n else 0,
                "text_bar": "#" * round(TEXT_BAR * n / top) if top else "",
            }
        )
    return bars, top


def _section(
    name: str,
    title: str,
    unit: str,
    key: str,
    rows: list[dict[str, Any]],
    empty: str = "Nothing in this period.",
) -> Any:
    return {
        "name": name,
        "title": title,
        "unit": unit,
        "empty": empty,
        "rows": [
            {"label": str(r.get(key) or ""), "value": _count(r.get("visitors"))} for r in rows
        ],
    }


def render(report: Report, recipient: str = "", token: str | None = None) -> Rendered:
    """The subject and both parts of `report` for `recipient` (with their unsubscribe link)."""
    kind = report.period.kind
    totals = []
    for metric in _LABELS:
        value = report.totals.get(metric)
        change, color = _change(metric, report.change.get(metric), value)
        totals.append(
            {
                "metric": metric,
                "raw": value,
                "raw_change": "" if report.change.get(metric) is None else report.change[metric],
                "label": _LABELS[metric],
                "value": _value(metric, value),
                "change": change,
                "color": color,
            }
        )
    bars, top = _chart(report)
    sections = [
        _section("pages", "Top pages", "Visitors", "page", report.pages),
        _section("sources", "Top sources", "Visitors", "source", report.sources),
        _section(
            "goals",
            "Goals",
            "Visitors",
            "goal",
            report.goals,
            "No conversions in this period."
            if report.saved_goals
            else "No goals saved yet (footfall goals add).",
        ),
    ]
    period_label = _period_label(report)
    link = unsubscribe_url(token) if token else None
    home = dashboard_url(report.site)
    footer = f"The {'weekly' if kind == 'week' else 'monthly'} footfall report of {report.site}"
    footer += f", sent to {recipient}." if recipient else "."
    context = {
        "title": f"{report.site}: {period_label}",
        "site": report.site,
        "tz": report.tz,
        "kind_label": "Weekly report" if kind == "week" else "Monthly report",
        "period_label": period_label,
        "previous_label": "week before" if kind == "week" else "month before",
        "totals": totals,
        "chart": bars,
        "chart_max": _count(top),
        "chart_height": CHART_HEIGHT,
        "sections": sections,
        "notes": [],
        "footer": footer,
        "dashboard": home,
        "unsubscribe_url": link,
    }
    visitors = totals[0]
    subject = f"{report.site}: {visitors['value']} visitors, {period_label}"
    if visitors["change"] and visitors["change"] != "new":
        subject += f" ({visitors['change']})"
    return Rendered(
        subject=subject,
        text=_text.get_template("report.txt").render(**context),
        html=HTML_TEMPLATES.get_template("report.html").render(**context),
    )


def message(report: Report, to: str, token: str | None = None) -> EmailMessage:
    """The email for one recipient: multipart/alternative, text then HTML.

    `From` is left to `send_email`, which knows the configured sender.
    """
    words = render(report, to, token)
    msg = EmailMessage(policy=_POLICY)
    msg["Subject"] = words.subject
    msg["To"] = to
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid("report", domain=report.site)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    link = unsubscribe_url(token) if token else None
    if link:
        msg["List-Unsubscribe"] = f"<{link}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(words.text)
    msg.add_alternative(words.html, subtype="html")
    return msg
