"""Slate dates: parsing `date=` values and the default (today's slate date, US/Eastern).

`date=` takes one date (`2019-10-30`), an inclusive range (`2019-10-22..2019-11-30`), or a comma list of
either (`2019-10-30,2019-11-01..2019-11-03`). Anything else - including path tricks like `../../etc` - is an
InvalidDate naming the bad part and the accepted forms.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from projections.errors import InvalidDate

EASTERN = ZoneInfo("America/New_York")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_DATES = 4000
YEARS = (1946, 2199)  # the NBA's first season (as the BAA) to far enough ahead: a year outside is a typo
FORMS = "YYYY-MM-DD, a range A..B, or a comma list of those (e.g. 2019-10-30 or 2019-10-22..2019-11-30)"


ONE = "one date, YYYY-MM-DD (e.g. 2019-10-30)"


def parse_one(text: str, expected: str = FORMS) -> dt.date:
    """One YYYY-MM-DD date; `expected` is what the error says is accepted (a command that takes a single date
    passes ONE, so its error does not offer ranges it would refuse)."""
    text = text.strip()
    if not _DATE.match(text):
        raise InvalidDate(f"invalid date {text!r}: expected {expected}")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidDate(f"invalid date {text!r}: {exc}; expected {expected}") from None
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise InvalidDate(f"invalid date {text!r}: NBA slates fall in the years {YEARS[0]}..{YEARS[1]}; expected "
                          f"{expected}")
    return day


def parse_dates(text: str) -> list[dt.date]:
    """Every date named by a `date=` value, sorted and without repeats."""
    if not text or not text.strip():
        raise InvalidDate(f"empty date: expected {FORMS}")
    out: set[dt.date] = set()
    for part in text.split(","):
        part = part.strip()
        if ".." in part:
            first, _, last = part.partition("..")
            try:
                start, end = parse_one(first), parse_one(last)
            except InvalidDate as exc:  # which end, and why (a day out of its month, a year of no NBA slate)
                raise InvalidDate(f"invalid date range {part!r}: {str(exc).removeprefix('invalid ')}") from None
            if end < start:
                raise InvalidDate(f"range {part!r} ends before it starts; write it as {end}..{start}")
            span = (end - start).days + 1
            if span > MAX_DATES:
                raise InvalidDate(f"range {part!r} has {span} dates, more than {MAX_DATES}; split it")
            out.update(start + dt.timedelta(days=i) for i in range(span))
        else:
            out.add(parse_one(part))
    return sorted(out)


def slate_date_today(now: dt.datetime | None = None) -> dt.date:
    """Today's slate date: the US/Eastern calendar date (the CLI edge calls this, never a stage)."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(EASTERN).date()


def season_of(day: dt.date) -> str:
    """NBA season label of a date: Oct-Dec belong to the season starting that year, Jan-Sep to the one
    before; the 2020 bubble (to 2020-10-11) belongs to 2019-20, and 2020-21 began on 2020-12-22."""
    if day.year == 2020 and dt.date(2020, 7, 1) <= day <= dt.date(2020, 11, 30):
        start = 2019
    elif day.month >= 10:
        start = day.year
    else:
        start = day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"
