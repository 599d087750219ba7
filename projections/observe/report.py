"""The static dashboard: `report/index.html` (the newest published slate, every date's status and link) and
`report/slate-D.html` per published date (its status, links to the index and the dates beside it: a page's
size does not grow with the report's dates), each one self-contained - inline CSS, script and SVG, no network
needed to view it.

A page holds the per-date stage status, the run timeline, the slate as a sortable and filterable table,
projected vs actual DK points where box scores exist, distribution bands per player, ownership by salary,
and the date's ledger history. It is written into the data root by rename, so a server never serves half.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projections.hashing import short
from projections.ledger import iso, utc_now
from projections.observe import history, plots, status
from projections.observe.events import Events, Run, when
from projections.observe.page import CSS, SCRIPT
from projections.observe.slatediff import gold_problem
from projections.observe.slatetable import slate_table
from projections.store import write_atomic

if TYPE_CHECKING:
    import pandas as pd

    from projections.engine import Engine

DEFAULT_DATES = 31


@dataclass
class Overview:
    home: Path
    stages: list[str]
    statuses: list[status.DateStatus]
    runs: list[Run]
    generated: str
    pages: dict[str, str] = field(default_factory=dict)
    rows: dict[str, str] = field(default_factory=dict)  # each date's row of the status grid, rendered once


@dataclass
class Focus:
    day: str
    asset: str
    object: str
    manifest: dict[str, Any]
    slate: pd.DataFrame
    actual: pd.DataFrame | None
    blocks: list[history.Block]


@dataclass(frozen=True)
class Written:
    dir: Path
    index: Path
    pages: dict[str, Path]
    dangling: list[str] = field(default_factory=list)  # dates whose gold pointer names a missing or damaged object


def default_dates(engine: Engine, events: Events, limit: int = DEFAULT_DATES) -> list[dt.date]:
    """The last `limit` dates that have a gold pointer or anything in the ledger."""
    days = {day for _, day, _ in engine.store.iter_pointers()} | set(events.by_date)
    parsed = []
    for day in days:
        try:
            parsed.append(dt.date.fromisoformat(day))
        except ValueError:
            continue
    return sorted(parsed)[-limit:]


def _focus(engine: Engine, events: Events, day: str, asset: str, obj: str, actuals: plots.Actuals) -> Focus:
    from projections.observe.slatediff import load_slate

    return Focus(day=day, asset=asset, object=obj, manifest=engine.store.manifest(obj),
                 slate=load_slate(engine.store, obj), actual=actuals(dt.date.fromisoformat(day)),
                 blocks=history.timeline(events, day, deps=history.needs(engine.pipeline)))


def build(engine: Engine, *, out: Path | None = None, dates: list[dt.date] | None = None,
          events: Events | None = None) -> Written:
    """Write the dashboard for `dates` (default: the last 31 dates with gold or ledger entries)."""
    out = out or engine.home / "report"
    check_out(out, default=engine.home / "report")  # before the work: nothing of another's is overwritten
    events = events or Events.read(engine.home)
    dates = dates if dates is not None else default_dates(engine, events)
    overview = Overview(home=engine.home, stages=list(engine.pipeline.order),
                        statuses=status.collect(engine, dates, events),
                        runs=sorted(events.runs.values(), key=lambda r: r.began or "")[-60:],
                        generated=iso(utc_now()))
    asset = next((s.publish for s in engine.pipeline.published if s.publish), "projections")
    pointed = {d.game_date: obj for d in overview.statuses
               if (obj := engine.pointer(asset, dt.date.fromisoformat(d.game_date)))}
    # a pointer whose object is gone, damaged (deleted by hand, a disk error) or not that date's slate (moved by
    # hand) gets no page; the rest stands
    golds = {day: obj for day, obj in pointed.items() if obj and gold_problem(engine.store, obj, day) is None}
    dangling = sorted(set(pointed) - set(golds))
    overview.pages = {day: f"slate-{day}.html" for day in golds}
    pages: dict[str, Path] = {}
    newest = max(golds) if golds else None
    index_html = None
    actuals = plots.Actuals(engine.home)  # each season's box scores read once, not once a date
    for day, obj in sorted(golds.items()):
        assert obj is not None
        focus = _focus(engine, events, day, asset, obj, actuals)
        sections = slate_sections(focus)
        pages[day] = out / overview.pages[day]
        write_atomic(pages[day], render_page(overview, focus, sections=sections).encode())
        if day == newest:  # the index: the newest slate, with every date's status and link
            index_html = render_page(overview, focus, index=True, sections=sections)
    if index_html is None:
        index_html = render_page(overview, None, index=True)
    index = out / "index.html"
    write_atomic(index, index_html.encode())
    _drop_stale_pages(out, set(pages.values()))
    return Written(dir=out, index=index, pages=pages, dangling=dangling)


def _drop_stale_pages(out: Path, current: set[Path]) -> None:
    """Slate pages an earlier report wrote that this one does not link (dates now out of its window): left, they
    went stale and piled up (a season's pages are about 50 MB). A file of that name the report did not write stays."""
    for page in out.glob("slate-????-??-??.html"):
        if page not in current and _ours(page):
            page.unlink(missing_ok=True)


GENERATOR = '<meta name="generator" content="projections report">'
# how every page began before the generator tag (the report has always written this head): a folder an older
# version wrote is the report's own as well
OLDER_HEAD = ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
              'content="width=device-width, initial-scale=1">\n<link rel="icon" href="data:,"><title>projections')


def _ours(page: Path) -> bool:
    """Whether `page` is a page the report wrote (a regular file beginning with its head), not a link or another's."""
    try:
        if not page.is_file() or page.is_symlink():
            return False
        with open(page, "rb") as fh:
            head = fh.read(1024).decode("utf-8", "replace")
    except OSError:
        return False
    return GENERATOR in head or head.startswith(OLDER_HEAD)


def check_out(out: Path, *, default: Path) -> None:
    """ConfigError for a directory the report may not write into: an existing, non-empty one whose index.html (or,
    with none, any slate page) the report did not write - its index.html would be overwritten and its slate-*.html
    deleted. New and empty directories, the default one and the report's own are fine."""
    from projections.errors import ConfigError

    if out.absolute() == default.absolute() or not out.is_dir() or (default.is_dir() and out.samefile(default)):
        return
    try:
        if not any(out.iterdir()):
            return
    except OSError as exc:
        raise ConfigError(f"report --out {out}: cannot list that directory ({exc.strerror or exc}), so whether it "
                          "holds another's index.html cannot be told; name a new or empty directory you can read, or "
                          f"leave out --out for the default ({default})") from None
    index = out / "index.html"
    if index.exists() or index.is_symlink():
        if _ours(index):
            return
    elif any(_ours(page) for page in out.glob("slate-????-??-??.html")):
        return
    raise ConfigError(f"report --out {out}: that directory holds files the report did not write (no dashboard "
                      f"index.html of `projections report` in it), and writing the dashboard would overwrite its "
                      f"index.html and delete its slate-*.html pages; name a new or empty directory, or leave out "
                      f"--out for the default ({default})")


# ---- HTML --------------------------------------------------------------------------------------------


def _status_grid(ov: Overview, focus: Focus | None, *, index: bool) -> str:
    """The index's grid has every date's row; a date's page only its own, and links the index for the rest: every
    page carried every date's row (and link), 440 KB a page over a season, the report's cost growing with the
    square of its dates."""
    if index or focus is None:
        days = [d.game_date for d in reversed(ov.statuses)]
        more = ""
    else:
        days = [focus.day]
        more = ' <a href="index.html">every date\'s status</a>'
    head = "".join(f"<th>{escape(s)}</th>" for s in ov.stages)
    by_day = {d.game_date: d for d in ov.statuses}
    rows = "".join(_status_row(ov, by_day[day]) for day in days if day in by_day)
    return (f'<div class="scroll"><table id="status" class="grid"><thead><tr><th>date</th><th>state</th>{head}'
            f"<th>gold pointer</th></tr></thead><tbody>{rows}</tbody></table></div>"
            '<p class="muted">U up to date, R stale, F failed; hover a cell for the reason, the error or the build '
            f"time.{more}</p>")


def _status_row(ov: Overview, d: status.DateStatus) -> str:
    """A date's row of the grid, rendered once for all the pages that show it."""
    if (row := ov.rows.get(d.game_date)) is None:
        row = ov.rows[d.game_date] = _render_status_row(ov, d)
    return row


def _render_status_row(ov: Overview, d: status.DateStatus) -> str:
    cells = []
    by_stage = {s.stage: s for s in d.stages}
    for name in ov.stages:
        s = by_stage.get(name)
        if s is None:
            cells.append("<td>-</td>")
            continue
        tip = s.error or s.reason or f"built {when(s.built_at)}"
        took = f" {s.seconds:.2f}s" if isinstance(s.seconds, int | float) and s.state == "up to date" else ""
        cells.append(f'<td class="st-{s.mark}" title="{escape(tip)}">{s.mark} '
                     f"<code>{escape(short(s.object, 8))}</code>{took}</td>")
    gold = next((g for g in d.gold.values() if g), None)
    day = escape(d.game_date)
    link = f'<a href="{escape(ov.pages[d.game_date])}">{day}</a>' if d.game_date in ov.pages else day
    why = " ".join(filter(None, (d.outside or d.cannot_project or d.skipped, d.note and f"note: {d.note}")))
    tip = f' title="{escape(why)}"' if why else ""
    return (f'<tr><th scope="row">{link}</th><td class="state-{d.state.replace(" ", "-")}"{tip}>'
            f"{escape(d.state)}</td>{''.join(cells)}<td><code>{escape(short(gold, 10))}</code></td></tr>")


def _runs_table(runs: list[Run]) -> str:
    rows = []
    for run in reversed(runs[-20:]):
        end = run.end or {}
        dates = run.dates
        span = dates[0] if len(dates) == 1 else f"{dates[0]}..{dates[-1]} ({len(dates)})" if dates else "-"
        secs = f"{run.seconds:.1f}" if run.seconds is not None else "-"
        rows.append(f'<tr class="run-{run.outcome}"><td>{escape(when(run.began))}</td><td><code>{escape(run.run)}'
                    f"</code></td><td>{escape(span)}</td><td>{escape(run.outcome)}</td>"
                    f'<td class="num">{secs}</td>'
                    + "".join(f'<td class="num">{escape(str(end.get(k, "-")))}</td>'
                              for k in ("built", "up_to_date", "failed", "published")) + "</tr>")
    return ('<div class="scroll"><table id="runs" class="sortable"><thead><tr><th>began</th><th>run</th>'
            '<th>dates</th><th>outcome</th><th data-type="num">s</th><th data-type="num">built</th>'
            '<th data-type="num">up to date</th><th data-type="num">failed</th><th data-type="num">published</th>'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _history(focus: Focus) -> str:
    rows = []
    for block in focus.blocks:
        rows.append(f'<tr class="block"><td colspan="3">{escape(block.header())}</td></tr>')
        for e in block.entries:
            if e.kind == "quiet":
                rows.append(f'<tr class="quiet"><td></td><td colspan="2">{escape(e.stage)}: {escape(e.text)}</td></tr>')
                continue
            cls = "bad" if "FAILED" in e.text or e.kind == "alert_failure" else ""
            rows.append(f'<tr class="{cls}"><td>{escape(e.ts[11:23])}</td><td>{escape(e.stage)}</td>'
                        f"<td>{escape(e.text)}</td></tr>")
    return f'<table id="history" class="plain"><tbody>{"".join(rows)}</tbody></table>'


def _stats(stats: dict[str, Any]) -> str:
    if not stats:
        return ""
    parts = [f"{stats['players']} players who played", f"MAE {stats['mae']}",
             f"bias {stats['bias']:+} (projected - actual)",
             f"{stats['inside_p10_p90']:.0%} inside p10-p90" + (" (approx. bands)" if stats["bands_approximate"]
                                                                 else "")]
    if stats.get("corr") is not None:
        parts.append(f"r = {stats['corr']}")
    if stats.get("without_box_score"):
        parts.append(f"{stats['without_box_score']} on the slate who did not play (inactive or DNP)")
    parts.append("every player who played is counted here; `projections evaluate` leaves out those with no earlier "
                 "game this season (no baseline to compare with), so its figures can differ")
    return f'<p class="stats">{escape("; ".join(parts))}</p>'


HERE = ' class="here"'


def _nav(ov: Overview, focus: Focus | None, *, index: bool) -> str:
    """The index links every published date; a date's page the index and the dates before and after it."""
    days = sorted(ov.pages, reverse=True)
    if index or focus is None or focus.day not in ov.pages:
        here = focus.day if focus is not None else None
        links = [f'<a{HERE if day == here else ""} href="{escape(ov.pages[day])}">{escape(day)}</a>' for day in days]
    else:
        at = days.index(focus.day)
        newer, older = days[at - 1] if at > 0 else None, days[at + 1] if at + 1 < len(days) else None
        links = ['<a href="index.html">all dates</a>']
        if older:
            links.append(f'<a rel="prev" href="{escape(ov.pages[older])}">&larr; {escape(older)}</a>')
        links.append(f'<a{HERE} href="{escape(ov.pages[focus.day])}">{escape(focus.day)}</a>')
        if newer:
            links.append(f'<a rel="next" href="{escape(ov.pages[newer])}">{escape(newer)} &rarr;</a>')
    return f'<nav aria-label="published dates">{"".join(links) or "no published slate among these dates"}</nav>'


def slate_sections(focus: Focus) -> str:
    """The slate, its plots and its history: the part of a date's page the index repeats."""
    m = focus.manifest
    joined = plots.with_actuals(focus.slate, focus.actual)  # once for the table and both charts
    scatter, stats = plots.projected_vs_actual(joined)
    facts = (f"gold/{focus.asset}/game_date={focus.day} &rarr; <code>{escape(short(focus.object, 16))}</code>, "
             f"built {escape(when(m.get('created_at')))} by code {escape(str(m.get('code_version')))}, "
             f"as_of {escape(when(m.get('as_of')))}, params <code>{escape(json.dumps(m.get('params', {})))}</code>")
    return (f'<section id="slate-section"><h2>Slate {escape(focus.day)}</h2><p class="muted">{facts}</p>'
            f"{slate_table(joined)}</section>"
            f'<section id="plots"><h2>Plots</h2>{_stats(stats)}<div class="plots">'
            f'<figure id="plot-actual">{scatter}</figure>'
            f'<figure id="plot-ownership">{plots.ownership_by_salary(focus.slate)}</figure>'
            f'<figure id="plot-bands" class="wide">{plots.bands(joined)}</figure></div>'
            f'</section><section id="history-section"><h2>History of {escape(focus.day)}</h2>'
            f"{_history(focus)}</section>")


def render_page(ov: Overview, focus: Focus | None, *, index: bool = False, sections: str | None = None) -> str:
    """A date's page (`focus`), or with `index` the index: the same, with every date's status and link.
    `sections`: the focus's `slate_sections`, when already rendered."""
    counts = {state: sum(1 for d in ov.statuses if d.state == state) for state in ("up to date", "stale", "failed")}
    last = ov.runs[-1] if ov.runs else None
    cards = [f'<div class="card"><b>{n}</b> {escape(state)}</div>' for state, n in counts.items()]
    if last is not None:
        cards.append(f'<div class="card run-{last.outcome}"><b>{escape(last.outcome)}</b> last run '
                     f"{escape(when(last.began))}</div>")
    if focus is None:
        slate = '<section id="slate-section"><h2>Slate</h2><p>No published slate among these dates.</p></section>'
        title = "projections"
    else:
        slate = sections if sections is not None else slate_sections(focus)
        title = f"projections {focus.day}"
    status_title = "Stage status per date" if index or focus is None else f"Stage status of {escape(focus.day)}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
{GENERATOR}<link rel="icon" href="data:,"><title>{escape(title)}</title><style>{CSS}</style></head>
<body><header><h1>{escape(title)}</h1><p class="muted">data root {escape(str(ov.home))}; generated
{escape(when(ov.generated))}</p>{_nav(ov, focus, index=index)}<div class="cards">{"".join(cards)}</div></header>
<main>{slate}
<section id="status-section"><h2>{status_title}</h2>{_status_grid(ov, focus, index=index)}</section>
<section id="runs-section"><h2>Run timeline</h2><figure id="plot-runs">{plots.runs_chart(ov.runs)}</figure>
{_runs_table(ov.runs)}</section></main>
<script>{SCRIPT}</script></body></html>
"""
