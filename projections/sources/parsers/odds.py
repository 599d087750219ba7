"""odds from the cdn.nba.com odds_todaysGames feed: consensus (median over books) spreads and moneylines."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from projections.dates import season_of
from projections.sources.parsers.common import MONEYLINE_RANGE, SPREAD_RANGE, TEAM_IDS, bad, load_json

if TYPE_CHECKING:
    import pandas as pd

    from projections.errors import ContractViolation


def _american(decimal_odds: float) -> float:
    """Decimal odds -> American moneyline (2.5 -> +150, 1.5 -> -200)."""
    if decimal_odds >= 2.0:
        return round((decimal_odds - 1.0) * 100.0, 1)
    return round(-100.0 / (decimal_odds - 1.0), 1)


def _decimal_range() -> tuple[float, float]:
    """The decimal odds whose American moneyline lies within MONEYLINE_RANGE (1.001 to 1001)."""
    low, high = MONEYLINE_RANGE
    return 1.0 + 100.0 / abs(low), 1.0 + high / 100.0


def _plausible(value: float, field: str) -> bool:
    if field == "spread":
        return SPREAD_RANGE[0] <= value <= SPREAD_RANGE[1]
    low, high = _decimal_range()
    return low <= value <= high  # False for NaN; inf is out of range


def _refused(where: str, market: str, side: str, field: str, raw: Any) -> ContractViolation:
    if field == "spread":
        what = f"a point spread (a number from {SPREAD_RANGE[0]:g} to {SPREAD_RANGE[1]:g})"
    else:
        low, high = _decimal_range()
        what = (f"decimal odds (a number from {low:g} to {high:g}, a moneyline within {MONEYLINE_RANGE[0]:+g} to "
                f"{MONEYLINE_RANGE[1]:+g})")
    return bad("odds", f"{where}: the {market} market's {side} {field} {str(raw)[:40]!r} is not {what}",
               "the feed is broken; the last good capture stays until it serves real lines")


def _consensus(game: Mapping[str, Any], where: str, market: str, side: str, field: str) -> float:
    """The median over books of one outcome's `field`. A book's value that is no real line (NaN, Infinity,
    1e308, a spread past 40, odds of 1.000 on a suspended market) is left out of it, as text that is no number
    is; when every book's value is such, the payload is refused (ContractViolation naming the game, the field
    and the value) rather than the line read as unknown."""
    values: list[float] = []
    implausible: list[Any] = []  # as the feed wrote them
    for item in game.get("markets") or []:
        if item.get("name") != market:
            continue
        for book in item.get("books") or []:
            for outcome in book.get("outcomes") or []:
                if outcome.get("type") == side and outcome.get(field) not in (None, ""):
                    try:
                        value = float(outcome[field])
                    except (TypeError, ValueError, OverflowError):
                        continue
                    if _plausible(value, field):
                        values.append(value)
                    else:
                        implausible.append(outcome[field])
    if implausible and not values:
        raise _refused(where, market, side, field, implausible[0])
    return float(statistics.median(values)) if values else math.nan


def odds_from_todays_games(content: bytes, games: pd.DataFrame) -> pd.DataFrame:
    """Consensus (median over books) spread and moneylines for the games of one slate.

    `games` is the slate's schedule (game_id, game_date, home_team, away_team); feed games that are not on it
    are dropped. The feed has no totals market, so `total` is null."""
    import pandas as pd

    body = load_json(content, "odds")
    if not isinstance(body, list):
        raise bad("odds", "not a list of games")
    by_id = {str(g): i for i, g in enumerate(games["game_id"])}
    by_teams = {(h, a): i for i, (h, a) in enumerate(zip(games["home_team"], games["away_team"], strict=True))}
    rows = []
    for game in body:
        try:
            home, away = TEAM_IDS[int(game["homeTeamId"])], TEAM_IDS[int(game["awayTeamId"])]
        except (KeyError, TypeError, ValueError) as exc:
            raise bad("odds", f"game {str(game)[:100]} lacks a known team id ({exc})") from None
        index = by_id.get(str(game.get("gameId")), by_teams.get((home, away)))
        if index is None:
            continue
        where = f"game {game.get('gameId')} ({away}@{home})"
        ml_home, ml_away = (_consensus(game, where, "2way", side, "odds") for side in ("home", "away"))
        rows.append({
            "season": season_of(games["game_date"].iloc[index]), "game_date": games["game_date"].iloc[index],
            "home_team": home, "away_team": away, "spread_home": _consensus(game, where, "spread", "home", "spread"),
            "total": math.nan, "moneyline_home": _american(ml_home) if ml_home > 1 else math.nan,
            "moneyline_away": _american(ml_away) if ml_away > 1 else math.nan, "score_home": math.nan,
            "score_away": math.nan, "playoffs": bool(games["playoffs"].iloc[index]), "source": "nba_live_odds",
        })
    columns = ["season", "game_date", "home_team", "away_team", "spread_home", "total", "moneyline_home",
               "moneyline_away", "score_home", "score_away", "playoffs", "source"]
    return pd.DataFrame(rows, columns=columns).astype({"playoffs": bool})


def feed_game_ids(content: bytes) -> list[str]:
    """The game ids an odds_todaysGames body lists (none when it is not a list)."""
    body = load_json(content, "odds")
    return [str(g.get("gameId")) for g in body] if isinstance(body, list) else []
