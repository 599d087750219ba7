"""The dashboard's charts: projected vs actual DK points, distribution bands per player, ownership by salary,
and the run timeline. Each takes frames or ledger runs and returns inline SVG; a column the slate does not
have (yet) gives a chart that says so, or a documented fallback, never an error."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projections.observe.events import Run, when
from projections.observe.slatediff import percent
from projections.observe.svg import Chart, empty, padded

if TYPE_CHECKING:
    import pandas as pd

QUANTILES = ("dk_p10", "dk_p25", "dk_p50", "dk_p75", "dk_p90")
_Z = {"dk_p10": -1.2816, "dk_p25": -0.6745, "dk_p50": 0.0, "dk_p75": 0.6745, "dk_p90": 1.2816}


def actuals(home: Path, day: dt.date) -> pd.DataFrame | None:
    """Box-score DK points and minutes of `day` from the archive (shipped or ingested), or None."""
    return Actuals(home)(day)


class Actuals:
    """Box-score actuals by date, each season's archive parts read once: a report of a season read them again for
    each date (filtered to it), a quarter of its time."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.seasons: dict[str, dict[dt.date, pd.DataFrame]] = {}

    def __call__(self, day: dt.date) -> pd.DataFrame | None:
        """The actuals of `day` (player_id, actual_dk, actual_minutes; the newest part's row of a player listed by
        several), or None when the archive has no box score of that date."""
        from projections.dates import season_of

        season = season_of(day)
        if season not in self.seasons:
            self.seasons[season] = _season_by_date(self.home, season)
        out = self.seasons[season].get(day)
        if out is None or out.empty:
            return None
        out = out.drop_duplicates("player_id", keep="last")
        return out.rename(columns={"dk_points": "actual_dk", "minutes": "actual_minutes"})[
            ["player_id", "actual_dk", "actual_minutes"]].reset_index(drop=True)


def with_actuals(slate: pd.DataFrame, actual: pd.DataFrame | None) -> pd.DataFrame:
    """The slate with each player's actual_dk and actual_minutes (NaN for one without a box score), or the slate as
    it is when the date has no box scores. A page joins once for its table and both charts (each joined it anew:
    three merges of the whole slate a page, a quarter of a season's report)."""
    if actual is None or actual.empty or "player_id" not in slate.columns:
        return slate
    return slate.merge(actual, on="player_id", how="left")


def _season_by_date(home: Path, season: str) -> dict[dt.date, pd.DataFrame]:
    """Every archive part of `season`, in the archive's order (a later part's row wins), split by game date."""
    import pandas as pd

    from projections.archive import parts
    from projections.errors import SourceError

    try:
        found = [p for p in parts(home, "player_logs") if season in p.seasons]
    except SourceError:
        return {}
    frames = []
    for part in found:
        try:
            frames.append(pd.read_parquet(part.path, columns=["game_date", "player_id", "dk_points", "minutes"]))
        except (OSError, ValueError, KeyError):
            continue
    if not frames:
        return {}
    joined = pd.concat(frames, ignore_index=True)
    if joined["game_date"].dtype.kind == "M":  # a part written with timestamps: keyed by the day all the same
        joined["game_date"] = joined["game_date"].dt.date
    return {day: group for day, group in joined.groupby("game_date", sort=False)}


def with_quantiles(slate: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The slate with dk_p10..dk_p90; when it has none, normal approximations from dk_mean and dk_sd
    (floored at 0). The flag says whether they are approximations."""
    if all(c in slate.columns for c in QUANTILES):
        return slate, False
    out = slate.copy()
    if "dk_mean" not in out.columns:
        return out, True
    sd = out["dk_sd"].astype("float64").fillna(0.0) if "dk_sd" in out.columns else 0.0
    for col in QUANTILES:
        if col not in out.columns:
            out[col] = (out["dk_mean"].astype("float64") + _Z[col] * sd).clip(lower=0.0)
    return out, True


def _only(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """`columns` and the ones a tooltip names the player by: itertuples over a whole slate (26 columns, text ones
    read a value at a time) was a fifth of a season's report."""
    keep = [c for c in ("player_id", "player_name", "team", *columns) if c in frame.columns]
    return frame[list(dict.fromkeys(keep))]


def _name(row: Any) -> str:
    name = str(getattr(row, "player_name", "") or getattr(row, "player_id", ""))
    team = getattr(row, "team", "")
    return f"{name} ({team})" if team else name


def projected_vs_actual(slate: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    """Scatter of actual against projected DK points of the slate `with_actuals` (one dot per player who played:
    minutes > 0, as `projections evaluate` counts), with y = x; bias is projected - actual, as evaluate's (negative:
    projected too low)."""
    title = "Projected vs actual DK points"
    if "dk_mean" not in slate.columns:
        return empty(560, 380, "the slate has no dk_mean column", title=title), {}
    if "actual_dk" not in slate.columns:
        return empty(560, 380, "no box scores for this date yet (actuals appear once the archive has them)",
                     title=title), {}
    frame, approx = with_quantiles(slate)
    joined = frame.dropna(subset=["dk_mean", "actual_dk"])
    joined = joined[joined["actual_minutes"].fillna(0.0) > 0]
    if joined.empty:
        return empty(560, 380, "no slate player played on this date per the box scores", title=title), {}
    err = (joined["dk_mean"] - joined["actual_dk"]).astype("float64")
    inside = ((joined["actual_dk"] >= joined["dk_p10"]) & (joined["actual_dk"] <= joined["dk_p90"]))
    stats = {"players": len(joined), "without_box_score": int(len(slate) - len(joined)),
             "mae": round(float(err.abs().mean()), 2), "bias": round(float(err.mean()), 2),
             "corr": round(float(joined["dk_mean"].corr(joined["actual_dk"])), 3) if len(joined) > 2 else None,
             "inside_p10_p90": round(float(inside.mean()), 3), "bands_approximate": approx}
    hi = padded([*joined["dk_mean"], *joined["actual_dk"]], zero=True)[1]
    chart = Chart(560, 380, (0.0, hi), (min(0.0, float(joined["actual_dk"].min())), hi), title=title,
                  x_label="projected DK points (dk_mean)", y_label="actual DK points", top=44)
    chart.legend([("dot", "pt in", "inside p10-p90"), ("dot", "pt out", "outside")]
                 + ([("box", "approx-key", "bands approx. from dk_sd")] if approx else []), y=34)
    chart.line(0, 0, hi, hi, cls="ref")
    rows = _only(joined, "dk_mean", "dk_p10", "dk_p90", "actual_dk", "actual_minutes")
    for row, ok in zip(rows.itertuples(index=False), inside, strict=True):
        tip = (f"{_name(row)}: projected {row.dk_mean:.1f} (p10 {row.dk_p10:.1f} - p90 {row.dk_p90:.1f}), "
               f"actual {row.actual_dk:.1f} in {row.actual_minutes:.0f} min")
        chart.point(float(row.dk_mean), float(row.actual_dk), cls="pt in" if ok else "pt out", tip=tip)
    chart.text(hi, hi, "y = x", anchor="end", dy=-4, cls="lbl muted")
    return chart.render(label=f"{title}: {len(joined)} players, MAE {stats['mae']}"), stats


def bands(slate: pd.DataFrame, *, top: int = 40) -> str:
    """p10-p90 and p25-p75 bands, the median and the mean for the `top` projected players of the slate
    `with_actuals`; the actual score as a diamond where there is one."""
    title = f"Distribution bands, top {top} by projection"
    if "dk_mean" not in slate.columns:
        return empty(720, 200, "the slate has no dk_mean column", title=title)
    frame, approx = with_quantiles(slate)
    frame = frame.dropna(subset=["dk_mean", *QUANTILES]).sort_values("dk_mean", ascending=False, kind="stable")
    frame = frame.head(top)
    if frame.empty:
        return empty(720, 200, "no player has a projection", title=title)
    n = len(frame)
    row_h = 16
    hi = padded([*frame["dk_p90"], *(frame["actual_dk"].dropna() if "actual_dk" in frame else [])], zero=True)[1]
    chart = Chart(720, 76 + n * row_h, (0.0, hi), (n + 0.5, 0.5), title=title, x_label="DK points", left=190,
                  top=50, bottom=40)
    chart.legend([("box", "band-outer", "p10-p90"), ("box", "band-inner", "p25-p75"), ("box", "median-key", "median"),
                  ("dot", "mean", "mean"), ("diamond", "actual", "actual")]
                 + ([("box", "approx-key", "approx.: normal from dk_mean, dk_sd")] if approx else []), y=36)
    rows = _only(frame, "dk_mean", *QUANTILES, "actual_dk")
    for i, row in enumerate(rows.itertuples(index=False), start=1):
        label = _name(row)
        tip = (f"{label}: p10 {row.dk_p10:.1f}, p25 {row.dk_p25:.1f}, p50 {row.dk_p50:.1f}, p75 {row.dk_p75:.1f}, "
               f"p90 {row.dk_p90:.1f}, mean {row.dk_mean:.1f}")
        actual_dk = getattr(row, "actual_dk", float("nan"))
        if actual_dk is not None and not math.isnan(actual_dk):
            tip += f", actual {actual_dk:.1f}"
        chart.rect(row.dk_p10, i - 0.32, row.dk_p90, i + 0.32, cls="band-outer", tip=tip)
        chart.rect(row.dk_p25, i - 0.32, row.dk_p75, i + 0.32, cls="band-inner", tip=tip)
        chart.line(row.dk_p50, i - 0.36, row.dk_p50, i + 0.36, cls="median")
        chart.point(float(row.dk_mean), i, r=2.5, cls="mean", tip=tip)
        if actual_dk is not None and not math.isnan(actual_dk):
            x, y = chart.sx(actual_dk), chart.sy(i)
            chart.raw(f'<path class="actual" d="M{x:.1f} {y - 5:.1f} L{x + 5:.1f} {y:.1f} L{x:.1f} {y + 5:.1f} '
                      f'L{x - 5:.1f} {y:.1f} Z"><title>{escape(label)}: actual {actual_dk:.1f}</title></path>')
        chart.text(0, i, label[:28], anchor="end", dx=-8, dy=4, cls="lbl")
    return chart.render(y_ticks=False, label=title)


def ownership_by_salary(slate: pd.DataFrame) -> str:
    """Projected ownership against salary; without an ownership column, projected points against salary."""
    if "salary" not in slate.columns:
        return empty(560, 380, "the slate has no salary column", title="Ownership by salary")
    if "ownership" in slate.columns and slate["ownership"].notna().any():
        col, title = "ownership", "Projected ownership by salary"
        ys = slate["ownership"].astype("float64")  # in percent already (a slate's sum to 800)
        y_label = "projected ownership (%)"
    elif "dk_mean" in slate.columns:
        col, title = "dk_mean", "Projection by salary (no ownership column yet)"
        ys = slate["dk_mean"].astype("float64")
        y_label = "projected DK points"
    else:
        return empty(560, 380, "the slate has neither ownership nor dk_mean", title="Ownership by salary")
    frame = slate.assign(plot_y=ys).dropna(subset=["salary", "plot_y"])
    if frame.empty:
        return empty(560, 380, f"no player has both a salary and {col}", title=title)
    chart = Chart(560, 380, padded(frame["salary"].astype("float64")), padded(frame["plot_y"], zero=True),
                  title=title, x_label="salary ($)", y_label=y_label, x_fmt=lambda v: f"{v / 1000:g}k")
    for row in _only(frame, "salary", "plot_y").itertuples(index=False):
        value = percent(row.plot_y) if col == "ownership" else f"{row.plot_y:.1f}"
        tip = f"{_name(row)}: ${int(row.salary):,}, {col} {value}"
        chart.point(float(row.salary), float(row.plot_y), cls="pt own", tip=tip)
    return chart.render(label=title)


def runs_chart(runs: Sequence[Run]) -> str:
    """One bar per run (oldest left), its height the run's seconds, its colour the outcome."""
    title = "Runs: duration and outcome"
    if not runs:
        return empty(720, 220, "no runs in the ledger yet", title=title)
    secs = [r.seconds or 0.0 for r in runs]
    chart = Chart(max(720, 24 + 18 * len(runs)), 240, (0.0, float(len(runs))), padded(secs, zero=True),
                  title=title, y_label="seconds", x_fmt=lambda v: "")
    for i, run in enumerate(runs):
        end = run.end or {}
        tip = (f"run {run.run} {when(run.began)} - {run.outcome}; {run.command or '?'}; "
               f"{end.get('built', '?')} built, {end.get('up_to_date', '?')} up to date, "
               f"{end.get('failed', '?')} failed, {end.get('published', '?')} published; {secs[i]:.1f}s")
        chart.rect(i + 0.15, 0.0, i + 0.85, secs[i], cls=f"run {run.outcome}", tip=tip)
    first, last = runs[0].began, runs[-1].began
    chart.text(0, chart.y[0], when(first), dy=16, cls="tick")
    if len(runs) > 1:
        chart.text(len(runs), chart.y[0], when(last), dy=16, anchor="end", cls="tick")
    return chart.render(x_ticks=False, label=title)
