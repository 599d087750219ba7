"""A whole season's game logs from the live game-log endpoint, for `projections ingest game-logs --fetch SEASON`.

A live season rolls over on its own but for one thing: the calibration fits on the season before, from the
archive, and stats.nba.com's LeagueGameLog of that season is the file a person would otherwise have to find and
download. The regular season is asked for (what the calibration fits on, and all but a few weeks of a player's
history); the answer goes through the same checks as an ingested file (`files.game_logs`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from projections.errors import ConfigError, ContractViolation
from projections.sources import parsers, postseason
from projections.sources.http import LiveHttp

if TYPE_CHECKING:
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
