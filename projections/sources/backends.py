"""Live backends: one per table. Each builds its requests from settings, validates every payload (an empty or
implausible one raises ContractViolation inside projections.fetch, so it is retried and then reported), parses
it into the canonical table and records the capture as a snapshot.

    schedule     scoreboardv3 (or v2 / scheduleLeagueV2 by shape) for the date; zero games on a date the season
                 calendar (the archive schedule, else scheduleLeagueV2) lists games for is implausible, and so is
                 a game of the last capture missing (a postponed game stays listed)
    player_logs  leaguegamelog, player mode, the date's season; empty after the season has begun, fewer rows
                 than half of the last capture, or rows of another season, is implausible (postseason: its own
                 module); a log ending before the last date with games is noted (sources.freshness)
    odds         odds_todaysGames, kept to the slate's games; no game of the slate in the feed is implausible; a
                 game the feed stops listing, or lists with no market, keeps its last captured line
    rosters      commonteamroster for each team of the slate; fewer than 8 players is implausible
    lineups      liveData boxscore of each game of the slate (starters, who is not playing and why)
    injuries     the official injury report (the NBA's PDF, the newest of the date: sources.injuries_live), or a
                 table (CSV) at live.injuries.url; one listing only games before the date (yesterday's page) is
                 implausible; the same bytes again keep the last capture's report time
    salaries     the DraftKings inbox (projections/sources/inbox.py), then DraftKings' lobby for a date still
                 without salaries (sources.draftkings)

Raises FetchError (a SourceError) naming the source, the URL, every attempt and what to do.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projections.archive import parts
from projections.dates import season_of
from projections.errors import ContractViolation, FetchError, SourceError
from projections.ledger import iso
from projections.sources import ENDPOINTS, freshness, parsers, postseason, snapshots, starts, tables
from projections.sources.http import LiveHttp
from projections.sources.parsers.game_logs import impossible, impossible_rows

if TYPE_CHECKING:
    import pandas as pd

    from projections.pipeline import SourceEnv

log = logging.getLogger(__name__)

ENDPOINT = {table: endpoint for table, endpoint in ENDPOINTS.items() if endpoint}
FIX = {
    "schedule": "check the network and live.schedule.url; for a past date, `projections ingest game-logs` a "
                "season file (its schedule comes with it)",
    "player_logs": "retry later, or `projections ingest game-logs FILE` with the season's LeagueGameLog export",
    "odds": "retry later (the feed only lists today's games), or `projections ingest lines FILE` with closing "
            "lines; set PROJECTIONS_LIVE__ODDS__URL='' to run without live odds",
    "rosters": "retry later, or set PROJECTIONS_LIVE__ROSTERS__URL='' to run without live rosters",
    "lineups": "box scores appear shortly before tip: rerun closer to it, or set PROJECTIONS_LIVE__LINEUPS__URL=''",
    "injuries": "check live.injuries.url (the official report: https://ak-static.cms.nba.com/referee/injury/"
                "Injury-Report_{date}_{report}.pdf), or `projections ingest injuries FILE` with the report "
                "downloaded by hand; set PROJECTIONS_LIVE__INJURIES__URL='' to use the archive's reports",
    "salaries": "drop the slate's DKSalaries.csv into the inbox, or run `projections ingest dk-salaries FILE`",
}
MIN_ROSTER = 8
SHRINK = 0.5
# the live game logs drop box-score lines that cannot be (with a note), up to this many; more is a broken feed
MAX_IMPOSSIBLE_ROWS = 10
MAX_IMPOSSIBLE_SHARE = 0.01


@dataclass
class Context:
    env: SourceEnv
    http: LiveHttp
    day: dt.date
    now: dt.datetime
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # of these notes, the ones a run alerts (once a date)

    @property
    def home(self) -> Path:
        return self.env.home


@dataclass(frozen=True)
class Capture:
    frame: pd.DataFrame
    raw: dict[str, bytes]
    url: str
    attempts: int
    lock: dt.datetime | None = None


def _archive_schedule(home: Path, day: dt.date) -> pd.DataFrame | None:
    import pandas as pd
    import pyarrow.parquet as pq

    chosen = [p.path for p in parts(home, "schedule") if season_of(day) in p.seasons]
    if not chosen:
        return None
    frame = pd.concat([pq.read_table(p).to_pandas() for p in chosen], ignore_index=True)
    return frame[frame["status"] != "postponed"]


def slate_games(home: Path, day: dt.date) -> pd.DataFrame:
    """The games of the slate: the schedule snapshot the clock uses, else the archive's."""
    import pyarrow.parquet as pq

    entry = snapshots.select(snapshots.entries(home, "schedule", day), None)
    if entry is not None:
        frame = pq.read_table(snapshots.data_path(home, entry)).to_pandas()
    else:
        known = _archive_schedule(home, day)
        if known is None:
            raise SourceError(f"no schedule for {day}: neither a schedule snapshot nor an archive season; "
                              "fetch the schedule first")
        frame = known[known["game_date"] == day]
    return frame[frame["status"] != "postponed"].reset_index(drop=True)


def _calendar(ctx: Context) -> tuple[dict[dt.date, int] | None, str]:
    """Games per date of the date's season: the archive schedule, else the scheduleLeagueV2 calendar."""
    known = _archive_schedule(ctx.home, ctx.day)
    if known is not None:
        return known.groupby("game_date").size().to_dict(), "the archive schedule"
    if not ctx.http.configured("calendar"):
        return None, ""
    try:
        result = ctx.http.get("calendar", {}, validate=parsers.calendar_counts, source="calendar")
    except (FetchError, ContractViolation) as exc:
        ctx.notes.append(f"season calendar unavailable ({str(exc)[:200]})")
        return None, ""
    season, counts = parsers.calendar_counts(result.content)
    if season != season_of(ctx.day):
        return None, ""
    return counts, f"the season calendar ({result.url})"


def _previous_rows(home: Path, table: str, day: dt.date, *, same_season: bool = False) -> int | None:
    entry = snapshots.season_entry(home, table, day, None) if same_season else \
        snapshots.select(snapshots.entries(home, table, day), None)
    return entry.rows if entry is not None else None


def _parsed(parse: Callable[[bytes], pd.DataFrame], table: str, check: Callable[[pd.DataFrame], None]
            ) -> tuple[Callable[[bytes], None], dict[str, pd.DataFrame]]:
    """A fetch validator that parses, checks the table contract and plausibility, and keeps the table."""
    kept: dict[str, pd.DataFrame] = {}

    def validate(content: bytes) -> None:
        frame = parse(content)
        tables.check(frame, table, origin="(live payload)", fix="the endpoint changed its shape; fix "
                     "projections/sources/parsers/")
        check(frame)
        kept["frame"] = frame

    return validate, kept


def _shrunk(rows: int, previous: int | None, what: str) -> None:
    if previous and rows < SHRINK * previous:
        raise ContractViolation(f"{what}: {rows} rows, fewer than half of the {previous} the last capture held "
                                "- a shrunken payload", stage=what)


# ------------------------------------------------------------------------------------------ backends


def fetch_schedule(ctx: Context) -> Capture:
    previous = _previous_rows(ctx.home, "schedule", ctx.day)
    before = snapshots.last_table(ctx.home, "schedule", ctx.day, ctx.now)
    known = set(before["game_id"]) if before is not None else set()

    def plausible(frame: pd.DataFrame) -> None:
        if frame.empty:
            counts, where = _calendar(ctx)
            expected = counts.get(ctx.day, 0) if counts is not None else 0
            if expected:
                raise ContractViolation(f"schedule: zero games on {ctx.day}, but {where} lists {expected}",
                                        stage="schedule")
        _shrunk(len(frame), previous, f"schedule {ctx.day}")
        gone = sorted(known - set(frame["game_id"]))
        if gone:  # a postponed game stays on the scoreboard (status PPD): one that vanishes is a partial payload
            raise ContractViolation(f"schedule {ctx.day}: the scoreboard no longer lists {len(gone)} game(s) the last "
                                    f"capture had ({', '.join(gone[:4])}) - a partial payload; its players would "
                                    "leave the slate", stage="schedule")

    validate, kept = _parsed(lambda c: parsers.schedule_from_scoreboard(c, ctx.day), "schedule", plausible)
    result = ctx.http.get("schedule", {"date": ctx.day.isoformat()}, validate=validate, source="schedule")
    frame = kept["frame"]
    played = frame[frame["status"] != "postponed"]  # as the schedule stage locks: a postponed game tips never
    lock = played["tip_time"].min().to_pydatetime() if len(played) else None
    return Capture(frame, {"raw.json": result.content}, result.url, result.attempts, lock)


def fetch_player_logs(ctx: Context) -> Capture:
    previous = _previous_rows(ctx.home, "player_logs", ctx.day, same_season=True)

    def plausible(frame: pd.DataFrame) -> None:
        if frame.empty:
            counts, where = _calendar(ctx)
            played = sum(n for d, n in (counts or {}).items() if d < ctx.day)
            if played:
                raise ContractViolation(f"player_logs: no player games in {season_of(ctx.day)}, but {where} lists "
                                        f"{played} games before {ctx.day}", stage="player_logs")
        _shrunk(len(frame), previous, f"player_logs {season_of(ctx.day)}")
        other = sorted(set(frame["season"]) - {season_of(ctx.day)})
        if other:  # a feed answering another season would replace every player's history
            raise ContractViolation(f"player_logs: the feed answered with games of season {', '.join(other)}, not "
                                    f"{season_of(ctx.day)} (the season of {ctx.day}): check live.game_logs.url and "
                                    "its season parameter", stage="player_logs")
        if impossible_rows(frame).sum() > max(MAX_IMPOSSIBLE_ROWS, MAX_IMPOSSIBLE_SHARE * len(frame)):
            raise ContractViolation(f"player_logs {season_of(ctx.day)}: {impossible(frame)} - more than a few bad "
                                    "rows: the feed is broken, not one box score", stage="player_logs")

    validate, kept = _parsed(parsers.player_logs_from_gamelog, "player_logs", plausible)
    result = ctx.http.get("game_logs", {"season": season_of(ctx.day), "season_type": postseason.REGULAR},
                          validate=validate, source="player_logs")
    frame, later = postseason.join(ctx.http, ctx.day, kept["frame"])
    if (behind := freshness.logs_behind(ctx.home, ctx.day, frame, _archive_schedule(ctx.home, ctx.day))):
        ctx.notes.append(behind)
    wrong = impossible_rows(frame)
    if wrong.any():
        ctx.notes.append(f"dropped {impossible(frame)}: a box score adds up (PTS = 2 FGM + FG3M + FTM, "
                         "REB = OREB + DREB, made <= attempted, no negative count, at most 75 minutes)")
        frame = frame[~wrong.to_numpy()].reset_index(drop=True)
    filled = starts.fill(ctx.http, frame, *starts.known(ctx.home, ctx.day, ctx.now),  # who started: box scores
                         progress=lambda line: ctx.env.notify(f"player_logs {season_of(ctx.day)}: {line}"))
    ctx.notes.extend(filled.notes())
    raw = {"raw.json": result.content, **later, **starts.raw_files(filled)}
    return Capture(filled.frame, raw, result.url, result.attempts + filled.attempts)


def fetch_odds(ctx: Context) -> Capture:
    games = slate_games(ctx.home, ctx.day)

    def parse(content: bytes) -> pd.DataFrame:
        frame = parsers.odds_from_todays_games(content, games)
        if frame.empty:
            listed = parsers.feed_game_ids(content)
            raise ContractViolation(
                (f"odds: the feed lists {len(listed)} game(s) {listed[:6]} but none of the {len(games)} games of "
                 f"{ctx.day} (the feed only carries today's games)") if listed else
                f"odds: the feed lists no game at all (the {len(games)} games of {ctx.day} have no line yet)",
                stage="odds")
        return frame

    validate, kept = _parsed(parse, "odds", lambda frame: None)
    result = ctx.http.get("odds", {"date": ctx.day.isoformat()}, validate=validate, source="odds")
    frame = kept["frame"]
    before = snapshots.last_table(ctx.home, "odds", ctx.day, ctx.now)
    if before is not None:  # a line taken off the board (news near tip, a partial payload) keeps its last value:
        # a game the feed no longer lists, or lists with no market left
        lined = ["spread_home", "moneyline_home", "moneyline_away"]
        bare = frame[frame[lined].isna().all(axis=1)]["home_team"]
        known = before[before[lined].notna().any(axis=1) & before["home_team"].isin(games["home_team"])]  # (not a
        # game since postponed: it has left the slate)
        kept_rows = known[~known["home_team"].isin(frame["home_team"]) | known["home_team"].isin(bare)]
        if len(kept_rows):
            import pandas as pd

            frame = pd.concat([frame[~frame["home_team"].isin(kept_rows["home_team"])], kept_rows],
                              ignore_index=True).sort_values("home_team", ignore_index=True)
            ctx.notes.append(f"kept the last captured line of {len(kept_rows)} game(s) the feed no longer lists "
                             "or lists without one")
    missing = len(set(games["home_team"]) - set(frame["home_team"]))
    if missing:
        ctx.notes.append(f"{missing} of {len(games)} games have no line in the feed yet")
    return Capture(frame, {"raw.json": result.content}, result.url, result.attempts)


def fetch_rosters(ctx: Context) -> Capture:
    import pandas as pd

    games = slate_games(ctx.home, ctx.day)
    teams = sorted(set(games["home_team"]) | set(games["away_team"]))
    if not teams:
        raise SourceError(f"rosters: no games on {ctx.day}, so no team to fetch a roster for")
    frames, raw, attempts, url = [], {}, 0, ""
    for team in teams:
        def plausible(frame: pd.DataFrame, team: str = team) -> None:
            if len(frame) < MIN_ROSTER:
                raise ContractViolation(f"rosters: {team} lists {len(frame)} player(s); a real roster has at least "
                                        f"{MIN_ROSTER}", stage="rosters")

        validate, kept = _parsed(lambda c: parsers.roster_from_commonteamroster(c, ctx.day), "rosters", plausible)
        result = ctx.http.get("rosters", {"season": season_of(ctx.day), "team_id": str(parsers.TEAM_ID_OF[team])},
                              validate=validate, source=f"rosters {team}")
        frames.append(kept["frame"])
        raw[f"raw-{team}.json"] = result.content
        attempts += result.attempts
        url = url or result.url
    return Capture(pd.concat(frames, ignore_index=True), raw, url, attempts)


def fetch_lineups(ctx: Context) -> Capture:
    """Each game's box score (starters, inactives) - but a game under way keeps what the last capture knew of it
    (known at its tip: DraftKings locks its players then, and late swap must not move them), and a box score once
    captured and now refused (403/404: the host, not "not published yet") keeps its last capture too."""
    import pandas as pd

    games = slate_games(ctx.home, ctx.day)
    if games.empty:
        raise SourceError(f"lineups: no games on {ctx.day}, so no box score to fetch")
    tips = pd.to_datetime(games["tip_time"], utc=True)
    tipped = sorted(str(g) for g, tip in zip(games["game_id"], tips, strict=True) if pd.notna(tip) and tip <= ctx.now)
    frames, raw, attempts, url, waiting = [], {}, 0, "", []
    for game_id in games["game_id"]:
        if str(game_id) in tipped:
            continue
        def plausible(frame: pd.DataFrame, game_id: str = game_id) -> None:
            if frame["team"].nunique() != 2:
                raise ContractViolation(f"lineups: box score {game_id} lists players of {frame['team'].nunique()} "
                                        "team(s), not 2", stage="lineups")

        validate, kept = _parsed(lambda c: parsers.lineups_from_boxscore(c, ctx.day), "lineups", plausible)
        try:
            result = ctx.http.get("lineups", {"game_id": str(game_id)}, validate=validate, source=f"lineups {game_id}")
        except FetchError as exc:
            if exc.status not in (403, 404):  # a box score not published yet
                raise
            waiting.append(str(game_id))
            attempts += exc.attempts
            url = url or exc.url or ""
            continue
        frames.append(kept["frame"])
        raw[f"raw-{game_id}.json"] = result.content
        attempts += result.attempts
        url = url or result.url
    before = snapshots.last_table(ctx.home, "lineups", ctx.day, ctx.now) if waiting or tipped else None
    if before is not None:
        ids = before["game_id"].astype(str)
        under_way, refused = sorted(set(ids) & set(tipped)), sorted(set(ids) & set(waiting))
        if under_way or refused:
            frames.append(before[ids.isin([*under_way, *refused])])
            waiting = [g for g in waiting if g not in refused]
        if under_way:
            ctx.notes.append(f"{len(under_way)} game(s) under way keep the lineups known at their tips")
        if len(tipped) > len(under_way):
            ctx.notes.append(f"{len(tipped) - len(under_way)} game(s) under way had no box score captured before "
                             "their tips: expected roles")
        if refused:
            ctx.notes.append(f"kept the last captured lineups of {refused}: their box scores now answer 403/404")
    if not frames:  # the morning run: nothing is known yet, which the slate must say, not fail on
        ctx.notes.append(f"no box score of the {len(waiting)} games is published yet: lineups are not known (the "
                         "minutes use expected roles until a run closer to tip)" if waiting else
                         f"no box score of the {len(tipped)} games under way was captured before its tip")
        empty = pd.DataFrame({c: pd.Series(dtype="bool" if c == "starter" else "object")
                              for c in tables.LINEUPS.columns})
        return Capture(empty, {}, url, attempts)
    if waiting:
        ctx.notes.append(f"box scores not published yet for {waiting}")
    return Capture(pd.concat(frames, ignore_index=True), raw, url, attempts)


def fetch_injuries(ctx: Context) -> Capture:
    from projections.sources.injuries_live import fetch_injuries as fetch  # the official PDF, or a CSV table

    return fetch(ctx)


BACKENDS: dict[str, Callable[[Context], Capture]] = {
    "schedule": fetch_schedule, "player_logs": fetch_player_logs, "odds": fetch_odds, "rosters": fetch_rosters,
    "lineups": fetch_lineups, "injuries": fetch_injuries,
}


def run(table: str, env: SourceEnv, day: dt.date, now: dt.datetime, *, http: LiveHttp | None = None
        ) -> dict[str, Any]:
    """Fetch `table` for `day` into a snapshot captured at `now` (the run's instant); a summary for the ledger."""
    if table == "salaries":
        from projections.sources.inbox import fetch_salaries

        return fetch_salaries(env, day, now, http)
    own = http is None
    http = http or LiveHttp.from_settings(env.settings.live)
    ctx = Context(env, http, day, now)
    try:
        capture = BACKENDS[table](ctx)
    except FetchError as exc:
        raise FetchError(f"{exc} | what to do: {FIX[table]}", url=exc.url, attempts=exc.attempts) from exc
    finally:
        if own:
            http.close()
    files = {**capture.raw, snapshots.DATA: tables.to_parquet(capture.frame, table)}
    recorded = snapshots.record(env.home, table, day, files=files, captured_at=now, url=capture.url,
                                rows=len(capture.frame), lock=capture.lock,
                                meta={"attempts": capture.attempts, "notes": ctx.notes},
                                stat_cache=env.stat_cache)
    entry = recorded.entry
    return {"describe": f"{table} {len(capture.frame)} rows ({'new' if recorded.appended else 'unchanged'} "
                        f"{entry.object[9:19]})" + "".join(f"; {note}" for note in ctx.notes),
            "object": entry.object, "data": entry.data, "rows": len(capture.frame), "url": capture.url,
            "attempts": capture.attempts, "changed": recorded.appended, "captured_at": iso(entry.captured_at),
            "notes": ctx.notes or None, "warning": ctx.warnings or None}
