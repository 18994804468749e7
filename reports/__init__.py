"""Reports people look at: one self-contained HTML page of a verify report.

`build` reads a verify report (and optionally the transcripts, a baseline report and
the spec) into a `Report`; `render` turns it into the page's bytes. The command is
`policyspec report` (policyspec/report_command.py).
"""

from reports.data import Report, build
from reports.html import render

__all__ = ["Report", "build", "render"]
