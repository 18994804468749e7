"""The HTML page of a report: one self-contained file, nothing fetched when it is viewed.

The page is rendered by Jinja2 with autoescape on: every string from a report or a
transcript that the template shows is escaped. The table's rows travel as JSON inside a <script>
element (`data._script_json` leaves no `<` in it, so no `</script>` can end it early),
the transcripts gzipped in base64 (no `<` either) and the page's script shows them only through
`textContent`, never as markup. Styles and script are inlined from report.css and
report.js beside this module.
"""

from __future__ import annotations

import base64
import datetime
import gzip
from importlib import resources

import jinja2
from markupsafe import Markup

from core.codes import CODES
from reports.data import NONE, Report

GENERATOR = "policyspec report"  # the page's <meta name="generator">: outputs.py looks for it


def _asset(name: str) -> str:
    return resources.files("reports").joinpath(name).read_text(encoding="utf-8")


def _packed(transcripts: list[bytes]) -> str:
    """The transcripts, one JSON text a line, gzipped and in base64: a tenth of the bytes
    for the browser's HTML parser to scan when the page opens; the page unpacks them
    (DecompressionStream) the first time one is shown. Base64 holds no `<`."""
    if not transcripts:
        return ""
    packed = gzip.compress(b"\n".join(transcripts), compresslevel=5, mtime=0)
    return base64.b64encode(packed).decode("ascii")


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
        transcripts=Markup(_packed(report.transcripts)),
        codes=[(code, CODES[code].title if code in CODES else "") for code in codes],
        rules=sorted(rate.name for rate in report.by_rule),
        categories=categories,
        missing=NONE,
        shown_rates=60,
    )
    return page.encode("utf-8")
