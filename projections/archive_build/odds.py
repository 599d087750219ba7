"""odds: closing lines from the Kaggle 2008-2025 file, cross-checked against and completed from sbr 2019-20.

`spread_home` < 0 when the home team is favoured. The odds table needs no identity join, so
`build --tables odds` builds it alone.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from projections.archive_build.common import LAST_DAY, Report, note_spellings, read_csv, season_of
from projections.identity import team_code


def _load_sbr(src: Path, report: Report) -> pd.DataFrame:
    """sportsbookreviewsonline rows (two a game) as one row a game; `spread_home` < 0 when home is favoured."""
    path = src / "odds" / "sbr_2019-20.csv"
    raw = read_csv(path, encoding="utf-8-sig")
    report.used("odds", [path], src)
    note_spellings(report, "odds", "sbr_2019-20.csv", raw["Team"])
    close = pd.to_numeric(raw["Close"].astype(str).str.lower().replace("pk", "0"), errors="coerce").abs()
    money = pd.to_numeric(raw["ML"], errors="coerce")
    first, second = raw.iloc[0::2].reset_index(drop=True), raw.iloc[1::2].reset_index(drop=True)
    c1, c2 = close.iloc[0::2].reset_index(drop=True), close.iloc[1::2].reset_index(drop=True)
    ml1, ml2 = money.iloc[0::2].reset_index(drop=True), money.iloc[1::2].reset_index(drop=True)
    if not ((second["Rot"] - first["Rot"] == 1).all() and (first["Date"] == second["Date"]).all()):
        raise ValueError(f"{path}: rows are not in visitor/home pairs; the file's layout changed")
    # the favourite's row carries the spread, the other row the total: the smaller number is the spread
    spread, total = c1.where(c1 < c2, c2), c1.where(c1 >= c2, c2)
    home_favoured = c2 < c1
    out = pd.DataFrame({
        "game_date": [date(y, m, d) for y, m, d in zip(first["Year"], first["Month"], first["Day"], strict=True)],
        "home_team": second["Team"].map(team_code), "away_team": first["Team"].map(team_code),
        "spread_home": spread.where(~home_favoured, -spread), "total": total,
        "moneyline_home": ml2, "moneyline_away": ml1,
        "score_home": second["Final"].astype(float), "score_away": first["Final"].astype(float),
        "neutral": first["VH"] == "N",
    })
    return out


def build_odds(src: Path, report: Report) -> pd.DataFrame:
    """The odds table: Kaggle rows from 2018-07-01 to LAST_DAY plus the games only sbr_2019-20.csv has."""
    path = src / "odds" / "nba_2008-2025_raw.csv"
    raw = read_csv(path)
    report.used("odds", [path], src)
    report.used("schedule", [path], src)
    raw["game_date"] = pd.to_datetime(raw["date"]).dt.date
    raw = raw[(raw["game_date"] >= date(2018, 7, 1)) & (raw["game_date"] <= LAST_DAY)]
    note_spellings(report, "odds", "nba_2008-2025_raw.csv", set(raw["home"]) | set(raw["away"]))
    favoured = raw["whos_favored"]
    if not favoured.isin(["home", "away"]).all():
        raise ValueError(f"{path}: whos_favored has values {sorted(set(favoured) - {'home', 'away'})}")
    out = pd.DataFrame({
        "game_date": raw["game_date"], "home_team": raw["home"].map(team_code),
        "away_team": raw["away"].map(team_code),
        "spread_home": raw["spread"].where(favoured == "away", -raw["spread"]).astype(float),
        "total": raw["total"].astype(float), "moneyline_home": raw["moneyline_home"].astype(float),
        "moneyline_away": raw["moneyline_away"].astype(float), "score_home": raw["score_home"].astype(float),
        "score_away": raw["score_away"].astype(float), "playoffs": raw["playoffs"].astype(bool),
        "source": "kaggle_2008_2025",
    })
    sbr = _load_sbr(src, report)
    both = out.merge(sbr, on=["game_date", "home_team", "away_team"], suffixes=("", "_sbr"))
    in_window = out[(out["game_date"] >= sbr["game_date"].min()) & (out["game_date"] <= sbr["game_date"].max())]
    spread_off = both[(both["spread_home"] - both["spread_home_sbr"]).abs() > 0.5]
    report.note("odds", "closing spreads (kaggle vs sbr) that differ by more than 0.5: " + "; ".join(
        f"{r.game_date} {r.away_team}@{r.home_team} {r.spread_home:+} vs {r.spread_home_sbr:+} (moneylines "
        f"{r.moneyline_away:+.0f}/{r.moneyline_home:+.0f})" for r in spread_off.itertuples()))
    total_off = both[(both["total"] - both["total_sbr"]).abs() > 0.5]
    score_off = both[(both["score_home"] != both["score_home_sbr"]) | (both["score_away"] != both["score_away_sbr"])]
    report.note("odds", (
        f"cross-check with sbr_2019-20.csv ({len(sbr)} games, {int(sbr['neutral'].sum())} at a neutral site): "
        f"{len(both)} of {len(in_window)} 2019-20 games found with the same date, home and away team (sbr's "
        f"second row of a neutral-site pair is the designated home team); closing spread differs by more than 0.5 in "
        f"{len(spread_off)}, total in {len(total_off)}, final score in {len(score_off)}"))
    known = set(zip(out["game_date"], out["home_team"], strict=True)) | set(
        zip(out["game_date"], out["away_team"], strict=True))
    missing = sbr[[(d, h) not in known for d, h in zip(sbr["game_date"], sbr["home_team"], strict=True)]]
    if len(missing):
        extra = missing.drop(columns="neutral").assign(playoffs=False, source="sbr_2019_20")
        out = pd.concat([out, extra], ignore_index=True)
    report.note("odds", f"games only in sbr_2019-20.csv, added from it: {len(missing)}")
    out["season"] = out["game_date"].map(season_of)
    return out
