"""The report's pages, rendered by Jinja2 with autoescaping on (student text stays text).

Each page carries a Content-Security-Policy: no network, images from the
report's own folder, and only the inline script whose hash it names, so even a
tag that slipped through escaping could not run or load anything.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from ..gradebook.feedback import inline_html
from ..gradebook.lateness import shown
from ..gradebook.results import STATUSES, TA_LOG_DIR, atomic_write
from .data import ReportData
from .similarity import Code

TEMPLATES = Path(__file__).with_name("templates")
ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
ENV.filters["breakable"] = lambda text: Markup(str(escape(text)).replace("_", "_<wbr>"))
ENV.filters["message"] = inline_html  # `code` spans as <code>; everything else text
SCRIPT = (TEMPLATES / "sort.js").read_text(encoding="utf-8")


def csp(script: str | None) -> str:
    scripts = "'none'"
    if script is not None:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        scripts = f"'sha256-{digest}'"
    return (f"default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'; "
            f"script-src {scripts}; base-uri 'none'; form-action 'none'")


def student_link(student_id: str, name: str) -> str:
    """A link from ``OUT/report/`` to a file in the student's folder ``OUT/<id>/``."""
    return f"../{quote(student_id, safe='')}/{name}"


def write_pages(data: ReportData, folder: Path, figures: dict[str, str],
                codes: dict[str, dict[str, Code]], database: Path) -> Path:
    """Write ``index.html`` and one page per similar pair into ``folder``; return the index."""
    ids = [row.student_id for row in data.rows]
    pair_pages = [f"pair-{n:03d}.html" for n in range(1, len(data.pairs) + 1)]
    index = ENV.get_template("index.html").render(
        d=data, figures=figures, pair_pages=pair_pages, statuses=list(STATUSES),
        feedback={i: student_link(i, "feedback.html") for i in ids},
        logs={i: f"../{TA_LOG_DIR}/{quote(i, safe='')}.json" for i in ids},
        max_score=sum(data.questions.values()), database=str(database),
        generated=shown(datetime.now(UTC), data.zone),
        script=SCRIPT, csp=csp(SCRIPT))
    for old in folder.glob("pair-*.html"):
        old.unlink()
    template = ENV.get_template("pair.html")
    for page, pair in zip(pair_pages, data.pairs, strict=True):
        questions = [q for q in data.questions if q in pair.questions]
        sides = {}
        for q in questions:
            hits = pair.shared_lines.get(q, (frozenset(), frozenset()))
            sides[q] = [(who, _lines(codes.get(who, {}).get(q)), hit)
                        for who, hit in ((pair.a, hits[0]), (pair.b, hits[1]))]
        atomic_write(folder / page, template.render(
            pair=pair, assignment=data.assignment, questions=questions, sides=sides,
            others=[q for q in data.questions if q not in pair.questions],
            csp=csp(None)))
    path = folder / "index.html"
    atomic_write(path, index)
    return path


def _lines(code: Code | None) -> list[str]:
    return code.source.splitlines() if code is not None else ["(no code for this question)"]
