"""player_logs: Basketball-Reference and stats.nba.com game logs, paired row by row, with one player_id each.

`load_bbref` and `load_nbacom` read one season of each source; `join_logs` pairs their rows (by name, then
by identical stat line) so every bbref row gets the nba.com game id, player id and plus/minus, and votes the
slug -> nba.com id map the identity join (players.py) uses; `build_player_logs` makes the table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

from projections.archive_build.common import SEASONS, STATS, Report, note_spellings, read_csv
from projections.archive_build.players import People
from projections.identity import canonical_key, dk_points, split_bbref, team_code


def load_nbacom(src: Path, season: str, report: Report) -> pd.DataFrame:
    """One season of stats.nba.com LeagueGameLog rows (logs/nbacom/player_logs_<season>.csv)."""
    path = src / "logs" / "nbacom" / f"player_logs_{season}.csv"
    raw = read_csv(path, dtype={"GAME_ID": str, "PLAYER_ID": str})
    report.used("player_logs", [path], src)
    report.used("schedule", [path], src)
    out = pd.DataFrame({
        "game_date": pd.to_datetime(raw["GAME_DATE"]).dt.date,
        "game_id": raw["GAME_ID"], "team": raw["TEAM_ABBREVIATION"].map(team_code),
        "nba_id": raw["PLAYER_ID"], "nba_name": raw["PLAYER_NAME"],
        "home": ~raw["MATCHUP"].str.contains("@", regex=False),
        "minutes": raw["MIN"].astype(float), "plus_minus": raw["PLUS_MINUS"].astype(float),
    })
    names = {"pts": "PTS", "fgm": "FGM", "fga": "FGA", "fg3m": "FG3M", "fg3a": "FG3A", "ftm": "FTM",
             "fta": "FTA", "oreb": "OREB", "dreb": "DREB", "reb": "REB", "ast": "AST", "stl": "STL",
             "blk": "BLK", "tov": "TOV", "pf": "PF"}
    for col, raw_col in names.items():
        out[col] = raw[raw_col].astype("int64")
    out["key"] = out["nba_name"].map(canonical_key)
    return out


def load_bbref(src: Path, season: str, report: Report) -> pd.DataFrame:
    """One season of Basketball-Reference game-finder rows (logs/bbref/<season>_season.csv)."""
    path = src / "logs" / "bbref" / f"{season}_season.csv"
    raw = read_csv(path)
    report.used("player_logs", [path], src)
    report.used("schedule", [path], src)
    where = raw.columns[list(raw.columns).index("Tm") + 1]  # the unnamed column after Tm: "@" when away
    note_spellings(report, "player_logs", f"Basketball-Reference {season}", set(raw["Tm"]) | set(raw["Opp"]))
    split = raw["Player"].map(split_bbref)
    out = pd.DataFrame({
        "game_date": pd.to_datetime(raw["Date"].str.replace(" *", "", regex=False)).dt.date,
        "playoffs": raw["Date"].str.endswith(" *"),
        "team": raw["Tm"].map(team_code), "opp": raw["Opp"].map(team_code),
        "home": raw[where].fillna("") != "@",
        "bbref_name": split.str[0], "slug": split.str[1],
        "started": raw["GS"].astype(bool), "minutes": raw["MP"].astype(float),
    })
    names = {"pts": "PTS", "fgm": "FG", "fga": "FGA", "fg3m": "3P", "fg3a": "3PA", "ftm": "FT", "fta": "FTA",
             "oreb": "ORB", "dreb": "DRB", "reb": "TRB", "ast": "AST", "stl": "STL", "blk": "BLK",
             "tov": "TOV", "pf": "PF"}
    for col, raw_col in names.items():
        out[col] = raw[raw_col].astype("int64")
    out["key"] = out["bbref_name"].map(canonical_key)
    return out


def _pair_rows(bbref: pd.DataFrame, nba: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Pairs (bbref row, nba.com row) of the same player-game: by name key, then by identical stat line."""
    on = ["game_date", "team"]
    by_name = bbref[[*on, "key", "_b"]].merge(nba[[*on, "key", "_n"]], on=[*on, "key"])
    by_name = by_name[~by_name["_b"].duplicated(keep=False) & ~by_name["_n"].duplicated(keep=False)]
    line = [*on, "pts", "reb", "ast", "stl", "blk", "tov", "fga", "minutes"]
    rest_b = bbref[~bbref["_b"].isin(by_name["_b"])]
    rest_n = nba[~nba["_n"].isin(by_name["_n"])]
    by_line = rest_b[[*line, "_b"]].merge(rest_n[[*line, "_n"]], on=line)
    by_line = by_line[~by_line["_b"].duplicated(keep=False) & ~by_line["_n"].duplicated(keep=False)]
    return pd.concat([by_name[["_b", "_n"]], by_line[["_b", "_n"]]], ignore_index=True), len(by_line)


def join_logs(src: Path, report: Report) -> tuple[pd.DataFrame, dict[str, str]]:
    """Both seasons of bbref logs with nba.com ids attached, and the slug -> nba id map the join found."""
    frames: list[pd.DataFrame] = []
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for season in SEASONS:
        bbref, nba = load_bbref(src, season, report), load_nbacom(src, season, report)
        bbref["_b"], nba["_n"] = range(len(bbref)), range(len(nba))
        pairs, by_line = _pair_rows(bbref, nba)
        window = bbref["game_date"] <= nba["game_date"].max()
        matched = bbref.merge(pairs, on="_b", how="left").merge(
            nba[["_n", "nba_id", "nba_name", "game_id", "plus_minus", "home", *STATS, "minutes"]],
            on="_n", how="left", suffixes=("", "_nba"))
        for slug, nba_id in matched.dropna(subset=["nba_id"])[["slug", "nba_id"]].itertuples(index=False):
            votes[slug][nba_id] += 1
        report.note("player_logs", (
            f"{season}: {len(bbref)} Basketball-Reference rows ({int(bbref['playoffs'].sum())} playoff), "
            f"{len(nba)} stats.nba.com rows (regular season to {nba['game_date'].max()}); "
            f"{len(pairs)} paired ({len(pairs) / max(int(window.sum()), 1):.2%} of bbref rows in the nba.com "
            f"window, {by_line} of them by identical stat line because the names differ); "
            f"{int(window.sum()) - len(pairs)} bbref rows and {len(nba) - len(pairs)} nba.com rows unpaired"))
        both = matched.dropna(subset=["_n"])
        diffs = {c: int((both[c] != both[f"{c}_nba"]).sum()) for c in (*STATS, "minutes", "home")}
        diffs = {c: n for c, n in diffs.items() if n}
        gap = (both["minutes"] - both["minutes_nba"]).abs().max()
        report.note("player_logs", f"{season}: stat differences bbref vs nba.com on paired rows: "
                    + (", ".join(f"{c} {n}" for c, n in diffs.items()) or "none")
                    + f" (both sources give whole minutes and round differently; largest gap {gap:.0f} min)")
        games = nba.drop_duplicates(["game_date", "team"]).set_index(["game_date", "team"])["game_id"]
        keyed = pd.MultiIndex.from_frame(matched[["game_date", "team"]])
        matched["game_id"] = matched["game_id"].fillna(pd.Series(games.reindex(keyed).to_numpy(),
                                                                 index=matched.index))
        matched["season"] = season
        frames.append(matched)
    slug_to_nba = {}
    for slug, counter in sorted(votes.items()):
        if len(counter) > 1:
            report.note("players", f"bbref slug {slug} pairs with several nba.com ids {dict(counter)}")
        slug_to_nba[slug] = counter.most_common(1)[0][0]
    return pd.concat(frames, ignore_index=True), slug_to_nba


def build_player_logs(logs: pd.DataFrame, people: People) -> pd.DataFrame:
    """The player_logs table: joined logs with player ids, made-up game ids where nba.com has none, DK points."""
    by_slug = {slug: pid for pid, slug in people.slug.items()}
    out = logs.copy()
    out["player_id"] = out["slug"].map(by_slug)
    out["player_name"] = out["player_id"].map(lambda pid: people.display[pid])
    away = out["team"].where(~out["home"], out["opp"])
    home = out["team"].where(out["home"], out["opp"])
    made_up = pd.Series([f"{d.isoformat()}-{a}@{h}" for d, a, h in zip(out["game_date"], away, home,
                                                                        strict=True)], index=out.index)
    out["game_id"] = out["game_id"].fillna(made_up)
    out["stats_source"] = out["_n"].notna().map({True: "bbref+nbacom", False: "bbref"})
    out["dk_points"] = dk_points(out["pts"], out["fg3m"], out["reb"], out["ast"], out["stl"], out["blk"],
                                 out["tov"]).astype(float)
    return out
