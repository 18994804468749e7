"""The HTML page of a report: one self-contained file, nothing fetched when it is viewed.

The page is rendered by Jinja2 with autoescape on: every string from a report or a
transcript that the template shows is escaped. The table's rows and the transcripts
travel as JSON inside <script> elements (`data._script_json` leaves no `<` in them, so
no `</script>` can end one early) and the page's script shows them only through
`textContent`, never as markup. Styles and script are inlined from report.css and
report.js beside this module.
"""

from __future__ import annotations

import datetime
from importlib import resources

import jinja2
from markupsafe import Markup

from core.codes import CODES
from reports.data import NONE, Report

GENERATOR = "policyspec report"  # the page's <meta name="generator">: outputs.py looks for it


def _asset(name: str) -> str:
    return resources.files("reports").joinpath(name).read_text(encoding="utf-8")


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["percent"] = _percent
_ENV.filters["number"] = _number


def render(report: Report, now: datetime.datetime | None = None) -> bytes:
    """The page, as UTF-8 bytes."""
    now = now or datetime.datetime.now(datetime.UTC)
    codes = sorted({f.code for row in report.rows for f in row.findings})
    categories = sorted({row.category or NONE for row in report.rows})
    page = _ENV.get_template("report.html.j2").render(
        report=report,
        generator=GENERATOR,
        created=now.strftime("%Y-%m-%d %H:%M UTC"),
        css=Markup(_asset("report.css")),
        js=Markup(_asset("report.js")),
        data=Markup(report.payload().decode()),
        transcripts=Markup(b"\n".join(report.transcripts).decode()),
        codes=[(code, CODES[code].title if code in CODES else "") for code in codes],
        rules=sorted(rate.name for rate in report.by_rule),
        categories=categories,
        missing=NONE,
        shown_rates=60,
    )
    return page.encode("utf-8")
