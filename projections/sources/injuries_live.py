"""The live injuries backend: the date's newest official injury report (a PDF, `parsers.injury_pdf`), or a table
served as CSV by whatever `live.injuries.url` points at.

The NBA publishes the report at ak-static.cms.nba.com/referee/injury/Injury-Report_<date>_<time>.pdf through the
day: hourly until December 2025 (time "05PM": the 5:30 PM report), every 15 minutes since ("05_30PM"); a name not
published answers 403 (or 404). With `{report}` in the URL template the fetch asks, newest first, the names of the
date's quarter hours up to now (both forms), at most LOOKBACK of them, and takes the first report served. A date
with none published yet falls back on the previous evening's newest report (EVENING quarter hours back from 11:45 PM)
when that one lists the date's games, as the evening report does (an early tip - Christmas Day's noon game - locks
before the day's first report); with neither, it is an empty capture with a note (the morning's runs: no status is
known yet); from NO_REPORT_BEFORE (US/Eastern) on, the note says the feed is late or the URL wrong. It does not
fail the slate: the injury report adds to what the other sources say, and a report the NBA names anew (as in
December 2025) must not stop every run until the URL is mended. A report served but unreadable, or the feed
failing otherwise, fails the fetch as any feed's failure does (the last capture carries on).
"""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from projections.errors import ContractViolation, FetchError
from projections.sources import snapshots, tables

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from projections.fetch import FetchResult
    from projections.sources.backends import Capture, Context
    from projections.sources.files import Resolve

EASTERN = ZoneInfo("America/New_York")
LOOKBACK = 12  # quarter hours asked back from now: three hours of reports
EVENING = 16  # quarter hours of the previous evening asked, from 11:45 PM back to 8 PM (2020's last: 8:30 PM)
NO_REPORT_BEFORE = dt.time(13, 0)  # Eastern: from then on a date without any report is the feed's fault
NOT_PUBLISHED = (403, 404)


def report_names(day: dt.date, now: dt.datetime, lookback: int = LOOKBACK) -> list[str]:
    """The `{report}` values to ask for `day` at `now`, newest first: each quarter hour of the date (US/Eastern) at
    or before now, as "HH_MMAM|PM", and on the half hour also the hourly form "HHAM|PM" (the HH:30 report), at most
    `lookback` quarter hours."""
    local = now.astimezone(EASTERN)
    end = dt.datetime.combine(day, dt.time(23, 45), tzinfo=EASTERN)
    slot = min(local, end).replace(second=0, microsecond=0)
    slot = slot.replace(minute=slot.minute - slot.minute % 15)
    names: list[str] = []
    for _ in range(lookback):
        if slot.date() != day:
            break
        names.append(f"{slot:%I_%M%p}")
        if slot.minute == 30:
            names.append(f"{slot:%I%p}")
        slot -= dt.timedelta(minutes=15)
    return names


def _newest(ctx: Context, fields: dict[str, str], names: list[str], validate: Callable[[bytes], None]
            ) -> FetchResult | None:
    """The first of `names` the feed serves (a report that passes `validate`), or None when none is published."""
    for name in names:
        try:
            return ctx.http.get("injuries", {**fields, "report": name}, validate=validate, source="injuries",
                                expected_status=NOT_PUBLISHED)
        except FetchError as exc:
            if exc.status not in NOT_PUBLISHED:
                raise
    return None


def _previous_evening(ctx: Context, validate: Callable[[bytes], None], kept: dict[str, Any]) -> FetchResult | None:
    """The previous evening's newest report (EVENING quarter hours back from 11:45 PM) when it lists the date's
    games - an evening report lists the next day's - or None (a note says why when one was served)."""
    eve = ctx.day - dt.timedelta(days=1)
    found = _newest(ctx, {"date": eve.isoformat()}, report_names(eve, ctx.now, EVENING), validate)
    if found is None:
        return None
    if earlier_only(kept["frame"], ctx.day):
        ctx.notes.append(f"the newest evening report of {eve} lists none of {ctx.day}'s games: not taken")
        return None
    ctx.notes.append(f"no injury report of {ctx.day} published yet: statuses from {eve}'s evening report, which "
                     "lists the date's games")
    return found


def _none_answered_since(ctx: Context, fields: dict[str, str], names: list[str]) -> None:
    """A date whose report was captured, now answering none of the names asked (all 403/404): the report host is
    refusing (an outage) or names its reports anew - not "none published yet". An empty capture would take the
    report back from the slate, so the fetch fails (FetchError) and the last capture carries on."""
    last = snapshots.last_table(ctx.home, "injuries", ctx.day, ctx.now)
    if last is None or not len(last):
        return
    when = last["report_time"].max()
    asked = f"{names[0]} back to {names[-1]}" if names else "no name of the date yet"
    raise FetchError(f"injuries: no report of {ctx.day} answered (asked {asked} and the evening before, each "
                     f"403/404), though the report of {when:%Y-%m-%d %H:%M}Z was captured: the report host refuses "
                     "or names its reports anew; the last capture carries on",
                     url=ctx.http.url("injuries", {**fields, "report": "*"}))


def _none_published(ctx: Context, fields: dict[str, str], names: list[str]) -> Capture:
    """No report of the date served: an empty capture with a note (which, from NO_REPORT_BEFORE, says why)."""
    from projections.sources.backends import Capture

    url = ctx.http.url("injuries", {**fields, "report": "*"})
    asked = f"{names[0]} back to {names[-1]}" if names else "none (the date has not begun)"
    local = ctx.now.astimezone(EASTERN)
    if local.date() < ctx.day or (local.date() == ctx.day and local.time() < NO_REPORT_BEFORE):
        ctx.notes.append(f"no injury report of {ctx.day} published yet (asked {asked}): no status known")
    else:  # alerted once a date (the same words each run): the slate goes on without statuses, unnoticed else
        ctx.warnings.append(f"no injury report of {ctx.day} at {url} after {NO_REPORT_BEFORE:%H:%M} ET: the NBA is "
                            "late or names its reports anew, or live.injuries.url is wrong; no status known "
                            "(`projections ingest injuries FILE` takes a report downloaded by hand)")
        ctx.notes.append(f"{ctx.warnings[-1]} (asked {asked}, each answered 403/404)")
    return Capture(tables.arrow_schema("injuries").empty_table().to_pandas(), {}, url, 0)


def parse_report(content: bytes, name: str, fallback: dt.datetime, resolve: Resolve
                 ) -> tuple[pd.DataFrame, dt.datetime | None]:
    """(the injuries table, the time the report's title prints or None) of one report: the official PDF, or its
    table as CSV (rows stamped `fallback` until the caller knows better); files.BadFile naming what is wrong."""
    from projections.sources.files import injury_report
    from projections.sources.parsers.injury_pdf import is_pdf, report_table

    table, when = content, None
    if is_pdf(content):
        table, when = report_table(content, name)
    return injury_report(table, name, when or fallback, resolve), when


def earlier_only(frame: pd.DataFrame, day: dt.date) -> str | None:
    """Why a report cannot be `day`'s: it lists games of earlier dates only (a morning report may list no player of
    the day yet - its teams 'not yet submitted', rows dropped - and is the date's all the same)."""
    if not len(frame) or max(frame["game_date"]) >= day:
        return None
    listed = ", ".join(sorted({str(d) for d in frame["game_date"]})[:3])
    return f"the report lists games of {listed} only, none of {day} or later: a report of an earlier day"


def fetch_injuries(ctx: Context) -> Capture:
    from projections.sources.backends import Capture
    from projections.sources.files import BadFile
    from projections.sources.parsers.injury_pdf import is_pdf
    from projections.sources.people import People

    people = People.known_at(ctx.home, ctx.day)
    kept: dict[str, Any] = {}

    def reader(own: bool) -> Callable[[bytes], None]:
        def validate(content: bytes) -> None:
            try:
                frame, when = parse_report(content, "injury report", ctx.now, people.resolve)
            except BadFile as exc:
                raise ContractViolation(str(exc), stage="injuries") from None
            stale = earlier_only(frame, ctx.day) if own else None
            if stale:  # yesterday's page: it would clear today's statuses
                raise ContractViolation(f"injuries: {stale} (a stale page, or the wrong live.injuries.url)",
                                        stage="injuries")
            kept.update(frame=frame, when=when)
        return validate

    fields = {"date": ctx.day.isoformat()}
    if "{report}" not in ctx.http.live.url_template("injuries"):
        result = ctx.http.get("injuries", fields, validate=reader(own=True), source="injuries")
    else:
        names = report_names(ctx.day, ctx.now)
        found = _newest(ctx, fields, names, reader(own=True)) or _previous_evening(ctx, reader(own=False), kept)
        if found is None:
            _none_answered_since(ctx, fields, names)
            return _none_published(ctx, fields, names)
        result = found
    frame = kept["frame"]
    raw = "raw.pdf" if is_pdf(result.content) else "raw.csv"
    when = kept["when"] if kept["when"] is not None and kept["when"] <= ctx.now else None
    stamp = result.headers.get("last-modified")
    if when is None and stamp:
        when = email.utils.parsedate_to_datetime(stamp)
    if when is None or when.tzinfo is None or when > ctx.now:
        # no time of its own: the same bytes as the last capture keep its time (a refetch is no new snapshot)
        same = snapshots.last_table(ctx.home, "injuries", ctx.day, ctx.now, raw=(raw, result.content))
        when = same["report_time"].iloc[0].to_pydatetime() if same is not None and len(same) else None
    if when is not None:
        frame["report_time"] = frame["report_time"].map(lambda _: when).astype("datetime64[us, UTC]")
    tables.check(frame, "injuries", origin="(live payload)", fix="fix projections/sources/files.py")
    return Capture(frame, {raw: result.content}, result.url, result.attempts)
