"""The date's DraftKings salaries from DraftKings itself, when nobody dropped a DKSalaries.csv into the inbox.

Two public requests, no login: the NBA lobby (`live.dk_lobby`, www.draftkings.com/lobby/getcontests?sport=NBA)
lists the open draft groups (slates): id, start (US/Eastern), number of games, tag and suffix; the salary CSV of one
draft group (`live.dk_salaries`, .../lineup/getavailableplayerscsv?contestTypeId=70&draftGroupId=N, what the site's
"Export to CSV" serves: the DKSalaries.csv a person would download) is then taken exactly as an inbox file is
(`inbox.ingest_dk`: the same checks, the same snapshot, its bytes kept).

Which draft group: the date's classic slates (a draft group with a classic contest, where the lobby lists contests),
and among them the main one: no start-time suffix (DraftKings names the others " (Early)", " (Turbo)", " (Night)",
a single game's " (BOS @ PHI)"), then tagged "Featured", then the most games, then the earliest start. The lobby
lists a slate from when its salaries are out (the day before, or the morning) until it locks, so a run before then
finds none and says so; the inbox stays the way to give any other slate.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections.errors import ContractViolation
from projections.sources.files import BadFile

if TYPE_CHECKING:
    from projections.pipeline import SourceEnv
    from projections.sources.http import LiveHttp

CLASSIC = "Classic"


@dataclass(frozen=True)
class DraftGroup:
    id: int
    start: str  # as the lobby writes it, US/Eastern
    games: int
    tag: str
    suffix: str

    def describe(self) -> str:
        name = f"draft group {self.id}" + (f"{self.suffix}" if self.suffix else " (main)")
        return f"{name}, {self.games} games from {self.start[11:16]} ET"


def _bad(message: str) -> ContractViolation:
    return ContractViolation(f"draftkings lobby: {message}", stage="salaries")


def draft_groups(content: bytes) -> list[DraftGroup]:
    """The classic draft groups the lobby lists (every one, when it lists no contest to tell them by); a
    ContractViolation when the body is no lobby (so the fetch retries it, then reports it)."""
    try:
        body = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(f"not JSON ({exc}): a login or error page?") from None
    if not isinstance(body, dict) or not isinstance(body.get("DraftGroups"), list):
        raise _bad("no DraftGroups list in the answer")
    listed = body.get("Contests")
    contests: list[Any] = listed if isinstance(listed, list) else []
    classic = {c.get("dg") for c in contests if isinstance(c, dict) and c.get("gameType") == CLASSIC}
    out = []
    for group in body["DraftGroups"]:
        if not isinstance(group, dict):
            continue
        try:
            ident, games = int(group["DraftGroupId"]), int(group.get("GameCount") or 0)
            start = str(group["StartDateEst"])
            dt.date.fromisoformat(start[:10])
        except (KeyError, TypeError, ValueError):
            continue  # an entry without an id or a start cannot be asked for
        if contests and ident not in classic:
            continue
        out.append(DraftGroup(ident, start, games, str(group.get("DraftGroupTag") or ""),
                              str(group.get("ContestStartTimeSuffix") or "")))
    return out


def main_group(groups: list[DraftGroup], day: dt.date) -> DraftGroup | None:
    """The date's main classic slate among `groups` (module docstring), or None when the lobby lists none."""
    mine = [g for g in groups if g.start[:10] == day.isoformat()]
    if not mine:
        return None
    return min(mine, key=lambda g: (bool(g.suffix.strip()), g.tag != "Featured", -g.games, g.start, g.id))


@dataclass(frozen=True)
class Download:
    content: bytes
    url: str
    group: DraftGroup


def download(http: LiveHttp, day: dt.date) -> Download | str:
    """The salary CSV of `day`'s main draft group, or why there is none (the lobby lists no slate of the date).
    Raises FetchError when a request fails."""
    kept: dict[str, Any] = {}

    def readable(content: bytes) -> None:
        kept["groups"] = draft_groups(content)

    http.get("dk_lobby", {}, validate=readable, source="salaries (DraftKings lobby)")
    group = main_group(kept["groups"], day)
    if group is None:
        dates = sorted({g.start[:10] for g in kept["groups"]})
        listed = f"it lists {', '.join(dates[:5])}" if dates else "it lists no NBA classic slate"
        return (f"DraftKings' lobby lists no NBA classic slate of {day} ({listed}): its salaries are not out yet, or "
                "it has locked")

    def csv(content: bytes) -> None:
        head = content[:300].lstrip(b"\xef\xbb\xbf").lower()
        if b"salary" not in head or b"<html" in head:
            raise ContractViolation(f"draftkings: the salary CSV of draft group {group.id} is no DKSalaries.csv "
                                    f"(it starts {content[:60]!r})", stage="salaries")

    result = http.get("dk_salaries", {"draft_group": str(group.id)}, validate=csv,
                      source=f"salaries (DraftKings draft group {group.id})")
    return Download(result.content, result.url, group)


def take(env: SourceEnv, day: dt.date, now: dt.datetime, http: LiveHttp | None) -> tuple[str, str]:
    """Ask DraftKings for `day`'s main slate (`download`) and take it as an inbox file is taken: (what was taken,
    for the summary; why nothing was, for the error). Nothing asked when either endpoint is off."""
    from projections.errors import FetchError
    from projections.sources.http import LiveHttp
    from projections.sources.inbox import ingest_dk

    live = env.settings.live
    if not (live.url_template("dk_lobby") and live.url_template("dk_salaries")):
        return "", ""
    own = http is None
    http = http or LiveHttp.from_settings(live)
    try:
        got = download(http, day)
    except FetchError as exc:
        return "", f"DraftKings was asked and failed: {str(exc).splitlines()[0][:400]}"
    finally:
        if own:
            http.close()
    if isinstance(got, str):
        return "", got
    try:
        took = ingest_dk(env.home, got.content, f"draftkings-{got.group.id}.csv", now, stat_cache=env.stat_cache,
                         url=got.url)
    except BadFile as exc:
        return "", f"DraftKings' salary CSV of its {got.group.describe()} was refused: {exc}"
    return f"DraftKings' {got.group.describe()} -> {took.day} {took.slate_id}", ""
