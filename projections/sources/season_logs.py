"""A whole season's game logs from the live game-log endpoint: `projections ingest game-logs --fetch SEASON`, and
the calibration's source in live mode (`PriorSeasonLogs`).

A live season rolls over on its own but for one thing: the calibration fits on the season before, from the
archive, and stats.nba.com's LeagueGameLog of that season is the file a person would otherwise have to find and
download. So in live mode the first run of a season whose season before the archive lacks fetches it, once, and
adds it to the archive as `ingest` would. Its regular season (what the calibration fits on) goes through the same
checks as an ingested file (`files.game_logs`) and is then completed (`complete`): its play-in and playoff games (a
player's last games before the new season, as the archive's seasons have them), and who started each game, which
LeagueGameLog does not say: each game's box score is asked (`sources.starts`), since roles guessed from minutes
cost much accuracy.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections.archive import ArchiveTable, live_configured, previous_season
from projections.dates import season_of
from projections.errors import ConfigError, ContractViolation, FetchError

if TYPE_CHECKING:
    import pandas as pd

    from projections.pipeline import SourceEnv
    from projections.settings_tables import LiveSettings

SEASON = re.compile(r"(\d{4})-(\d{2})")


def checked_season(text: str) -> str:
    """`text` when it names a season as the NBA writes it (2018-19); ConfigError naming the form otherwise."""
    match = SEASON.fullmatch(text.strip())
    if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
        raise ConfigError(f"--fetch {text!r} is not a season: write it as the NBA does, e.g. 2024-25 (the year it "
                          "begins, a dash, the last two digits of the next)")
    return match[0]


def fetch_season(live: LiveSettings, season: str) -> tuple[bytes, str]:
    """The LeagueGameLog body of `season`'s regular season and its URL (redacted). An answer without a game, or
    with games of another season, is retried like any implausible payload and then raised as a FetchError naming
    the URL and the attempts."""
    from projections.sources import parsers, postseason  # here: a no-op run imports this module, not httpx
    from projections.sources.http import LiveHttp

    def readable(content: bytes) -> None:
        frame = parsers.player_logs_from_gamelog(content)
        if frame.empty:
            raise ContractViolation(f"player_logs: the feed lists no game of {season} (a season not begun yet?)",
                                    stage="player_logs")
        other = sorted(set(frame["season"]) - {season})
        if other:
            raise ContractViolation(f"player_logs: the feed answered with games of season {', '.join(other)}, not "
                                    f"{season}: check live.game_logs.url and its season parameter",
                                    stage="player_logs")

    http = LiveHttp.from_settings(live)
    try:
        result = http.get("game_logs", {"season": season, "season_type": postseason.REGULAR}, validate=readable,
                          source="player_logs")
    finally:
        http.close()
    return result.content, result.url


def season_end(season: str) -> dt.date:
    """A day after every game of `season`, still in it: September 30 of its second year (the 2020 bubble, played
    to October 11, November 30)."""
    start = int(season[:4])
    return dt.date(2020, 11, 30) if start == 2019 else dt.date(start + 1, 9, 30)


def complete(live: LiveSettings, season: str, *, echo: Callable[[str], None] | None = None
             ) -> Callable[[pd.DataFrame], tuple[pd.DataFrame, list[str]]]:
    """What a fetched season's regular-season logs lack: its play-in and playoff games (`postseason.join`; a
    player's last games before the next season, as the archive's seasons hold them) and who started each game (one
    liveData box score a game, `sources.starts`: about 1,230 requests, ten minutes at the cdn's pace). `echo` hears
    of the box scores first, then how far their fetch got (`starts.PROGRESS_EVERY`); the notes say what was found."""

    def fill(logs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
        from projections.sources import postseason, starts
        from projections.sources.http import LiveHttp

        with LiveHttp.from_settings(live) as http:
            joined, _ = postseason.join(http, season_end(season), logs)
            later = joined["game_id"].nunique() - logs["game_id"].nunique()
            if echo is not None:
                echo(f"player_logs {season}: fetching who started each of its {joined['game_id'].nunique()} games "
                     "from their box scores...")
            filled = starts.fill(http, joined, starts.known_flags(),
                                 progress=None if echo is None else lambda line: echo(f"player_logs {season}: {line}"))
        return filled.frame, [f"with its {later} play-in and playoff games"] * bool(later) + filled.notes()

    return fill


SEASON_FETCH_WAIT_S = 1800.0  # a season's fetch takes about ten minutes (1,230 box scores at the cdn's pace)


@dataclass(frozen=True)
class PriorSeasonLogs(ArchiveTable):
    """An `ArchiveTable` of the season before's player logs (window "all", seasons (1,)) that in live mode fetches
    them when the archive has none: its fetch writes an archive part, not a snapshot, so there is no capture of it
    to fall back on (its key is no live table, which is how live_fetch, the reporter and `projections fetch` tell),
    and once the part exists no fetch is due again (a season over does not change)."""

    @property
    def fetch_key(self) -> str:
        return "prior_season_logs"

    def needs_fetch(self, env: SourceEnv, game_date: dt.date, now: dt.datetime, lock: dt.datetime | None) -> bool:
        if getattr(env.settings, "source", "archive") != "live" or not live_configured(self.table, env.settings):
            return False
        return not self._parts_for(env, game_date)

    def not_fetched(self, env: SourceEnv, game_date: dt.date) -> str:
        """Why no fetch was due (for the run's "no fetch" line)."""
        if not live_configured(self.table, env.settings):
            return "live.game_logs.url is unset: the archive's rows are used"
        return f"the archive holds {previous_season(season_of(game_date))}'s game logs"

    def fetch(self, env: SourceEnv, game_date: dt.date, now: dt.datetime) -> Mapping[str, Any]:
        """One fetch of the season at a time on a data root: a second run (or worker) due to fetch it too waits for
        the first (about ten minutes) and then finds it in the archive, instead of asking the NBA for it again."""
        from projections import locks

        season = previous_season(season_of(game_date))
        with locks.hold(env.home / "locks" / f"season-logs-{season}.lock", what=f"the fetch of {season}'s game logs",
                        timeout=SEASON_FETCH_WAIT_S, notify=env.notify):
            if self._parts_for(env, game_date):
                return {"describe": f"the {season} regular season's game logs: another run fetched them into the "
                                    "archive while this one waited", "season": season}
            return self._fetch(env, season, now)

    def _fetch(self, env: SourceEnv, season: str, now: dt.datetime) -> Mapping[str, Any]:
        from projections.sources.ingest import prepare_game_logs

        try:
            content, url = fetch_season(env.settings.live, season)
        except FetchError as exc:
            raise FetchError(f"{exc} | what to do: the next run fetches it again; or `projections ingest game-logs "
                             f"FILE` with {season}'s LeagueGameLog export", url=exc.url, attempts=exc.attempts) from exc
        report = prepare_game_logs(env.home, content, url, seasons={season},
                                   starts=complete(env.settings.live, season, echo=env.notify)).write(env.home, now)
        written = "; ".join(report.written) or "nothing written"
        return {"describe": f"the {season} regular season's game logs, once, into the archive ({written})",
                "url": url, "season": season, "notes": report.notes or None}
