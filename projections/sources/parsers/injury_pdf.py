"""The official NBA injury report as published: a PDF (ak-static.cms.nba.com/referee/injury/Injury-Report_*.pdf).

`report_table` reads its words with their positions (pdfplumber) and lays them out as the report's table - one line
of CSV per printed line, each word in the column whose header it stands under - which `files.injury_report` then
reads as it reads an uploaded table: blank cells repeat the cell above, a reason wrapped onto lines of its own (above
and below its player's line, as the 2023-24 layout centres them) is rejoined. Ruled (2020) and unruled (2023-24)
layouts both work from the header words, not from lines. The title's time ("Injury Report: 12/01/23 05:30 PM",
US/Eastern) is the report's time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

COLUMNS = ("Game Date", "Game Time", "Matchup", "Team", "Player Name", "Current Status", "Reason")
_HEADER = {"GameDate": 0, "GameTime": 1, "Matchup": 2, "Team": 3, "PlayerName": 4, "CurrentStatus": 5, "Reason": 6}
_PAIRS = {("Game", "Date"): 0, ("Game", "Time"): 1, ("Player", "Name"): 4, ("Current", "Status"): 5}
_TITLE = re.compile(r"Injury Report:\s*(\d\d)/(\d\d)/(\d\d)\s+(\d\d):(\d\d)\s*([AP]M)")
_FOOTER = re.compile(r"^(Page\s*)?\d+\s*of\s*\d+$")
EASTERN = ZoneInfo("America/New_York")
LINE_TOLERANCE = 2.0  # points: words whose tops differ by less are on one printed line


def is_pdf(content: bytes) -> bool:
    return content[:5] == b"%PDF-"


def _header(words: list[dict[str, Any]]) -> tuple[list[float], float] | None:
    """Each column's left edge and the header's bottom, from the header words of one page (None: no header)."""
    starts: dict[int, dict[str, Any]] = {}
    for i, word in enumerate(words):
        text = word["text"]
        pair = (text, words[i + 1]["text"]) if i + 1 < len(words) else None
        if text in _HEADER and _HEADER[text] not in starts:
            starts[_HEADER[text]] = word
        elif pair in _PAIRS and _PAIRS[pair] not in starts and abs(words[i + 1]["top"] - word["top"]) < 1:
            starts[_PAIRS[pair]] = word
    if len(starts) < len(COLUMNS):
        return None
    return [float(starts[i]["x0"]) for i in range(len(COLUMNS))], max(float(w["bottom"]) for w in starts.values())


def _lines(words: list[dict[str, Any]], below: float) -> list[list[dict[str, Any]]]:
    lines: list[list[dict[str, Any]]] = []
    for word in sorted((w for w in words if w["top"] > below), key=lambda w: (w["top"], w["x0"])):
        if lines and abs(lines[-1][0]["top"] - word["top"]) < LINE_TOLERANCE:
            lines[-1].append(word)
        else:
            lines.append([word])
    return lines


def report_table(content: bytes, name: str) -> tuple[bytes, dt.datetime | None]:
    """(the report's table as CSV bytes with COLUMNS, its time from the title or None); files.BadFile when the
    PDF cannot be read or holds no injury report table."""
    import pdfplumber  # here: only a PDF report needs it
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    from projections.sources.files import BadFile

    rows: list[list[str]] = []
    when = None
    edges: list[float] | None = None
    try:
        with pdfplumber.open(io.BytesIO(content)) as pdf:
            for page in pdf.pages:
                words = page.extract_words(x_tolerance=1.5, y_tolerance=LINE_TOLERANCE)
                if when is None:
                    when = _title_time(_opening(words))
                found = _header(words)
                if found is not None:
                    edges, bottom = found
                elif edges is not None:
                    bottom = -1.0  # 2023-24 prints the header on the first page only: the columns stand as there
                else:
                    continue
                for line in _lines(words, bottom):
                    cells = [""] * len(COLUMNS)
                    for word in sorted(line, key=lambda w: w["x0"]):
                        column = max((i for i, x in enumerate(edges) if word["x0"] >= x - 2), default=0)
                        cells[column] = f"{cells[column]} {word['text']}".strip()
                    text = " ".join(c for c in cells if c)
                    if _FOOTER.match(text) or text.startswith("Injury Report:"):
                        continue
                    rows.append(cells)
    except (PDFSyntaxError, PSException, PdfminerException, ValueError, KeyError, TypeError) as exc:
        raise BadFile(f"{name}: not a readable PDF ({type(exc).__name__}: {str(exc)[:120]}); a damaged or cut "
                      "download") from None
    if not rows:
        raise BadFile(f"{name}: a PDF without an injury report table (no 'Game Date ... Reason' header): not the "
                      "NBA's official injury report")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode(), when


def title_time(content: bytes) -> dt.datetime | None:
    """The time the report's title prints (its first page), or None: what `report_table` stamps the report with,
    without reading its table (the archive build dates each report this way)."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(content)) as pdf:
        words = pdf.pages[0].extract_words(x_tolerance=1.5, y_tolerance=LINE_TOLERANCE) if pdf.pages else []
    return _title_time(_opening(words))


def _opening(words: list[dict[str, Any]]) -> str:
    """The first words of a page, where the title stands."""
    return " ".join(w["text"] for w in words[:40])


def _title_time(text: str) -> dt.datetime | None:
    match = _TITLE.search(text)
    if match is None:
        return None
    month, day, year, hour, minute, half = match.groups()
    hour24 = int(hour) % 12 + (12 if half == "PM" else 0)
    local = dt.datetime(2000 + int(year), int(month), int(day), hour24, int(minute), tzinfo=EASTERN)
    return local.astimezone(dt.UTC)
