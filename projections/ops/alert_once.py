"""What earlier runs already alerted for a slate date, so that a condition lasting all day alerts once a date.

    fallback_key(event)                    what identifies a failed fetch: (date, source, its error, timings out)
    fallbacks(events)                      one run's fetches that failed and fell back on an earlier capture
    alerted_fallbacks(events, run)         the fallbacks an earlier run's delivered fetch alert of the date named
    notices(events, field)                 what one run's successful fetches noted ("rejected", "warning")
    alerted_notices(events, run, ...)      the notices an earlier run's delivered alert of the date named

Only a delivered alert (an `alert` ledger line, not an `alert_failure`) counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# A fetch that gave up (projections.fetch): "SOURCE: GET URL failed after N attempts in T s (REASON): 1) ERROR;
# 2) ERROR - ADVICE", and " | what to do: FIX" from the source. The count, the time and the reason (a wait that
# would overrun the budget, with the seconds left) differ from run to run for the same failure.
_GAVE_UP = re.compile(r"(?P<head>.*?) failed after \d+ attempts? in [\d.]+ s \((?:[^()]|\([^()]*\))*\): (?P<tried>.*)")
_NUMBERED = re.compile(r"; (?=\d+\) )")
_NUMBER = re.compile(r"^\d+\) ")
_SECONDS = re.compile(r"\b\d+(?:\.\d+)? ?m?s\b")  # a timing in an attempt's error: Retry-After, a deadline
_BYTES = re.compile(r"\b\d[\d,]* bytes\b")  # the size of a payload refused


def _steady(text: str) -> str:
    return _BYTES.sub("N bytes", _SECONDS.sub("N s", text))


def failure_of(error: str) -> str:
    """What identifies a failed fetch in its recorded error, the same at every run that meets it: the first line
    with the attempts' count, timing, reason and numbering left out, each distinct error once (sorted), and any
    other timing or payload size as N."""
    first = (error.splitlines() or [""])[0]
    text, said, fix = first.partition(" | what to do: ")
    gave_up = _GAVE_UP.fullmatch(text)
    if gave_up is None:
        return _steady(first)
    tried, dash, advice = gave_up["tried"].rpartition(" - ")
    if not dash:
        tried, advice = advice, ""
    errors = sorted({_steady(_NUMBER.sub("", e)) for e in _NUMBERED.split(tried)})
    return " | ".join([f"{gave_up['head']} failed", "; ".join(errors), _steady(advice)]) + said + fix


def fallback_key(event: Mapping[str, Any]) -> tuple[str, str, str]:
    """(date, source, `failure_of` its error) of a fetch_failure; a stage failure gets one no fallback has."""
    if event.get("event") != "fetch_failure":
        return ("", "", "stage failure")
    return (str(event.get("game_date", "?")), str(event.get("source")), failure_of(str(event.get("error") or "")))


def fallbacks(events: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], str]:
    """One run's fetches that failed and fell back on an earlier capture: their `fallback_key` -> the capture's
    time."""
    events = list(events)
    fell = {(str(e.get("game_date", "?")), str(e.get("source"))): str(e.get("captured_at")) for e in events
            if e.get("event") == "fetch_fallback"}
    return {key: fell[key[:2]] for e in events if e.get("event") == "fetch_failure"
            and (key := fallback_key(e))[:2] in fell}


def _delivered(events: Iterable[Mapping[str, Any]], run: str, kind: str) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """(date, that run's events) for each alert of `kind` an earlier run than `run` delivered."""
    by_run: dict[str, list[Mapping[str, Any]]] = {}
    delivered: set[tuple[str, str]] = set()  # (run, date)
    for e in events:
        if e.get("run") == run:
            continue
        by_run.setdefault(str(e.get("run")), []).append(e)
        if e.get("event") == "alert" and e.get("kind") == kind:
            delivered.add((str(e.get("run")), str(e.get("game_date"))))
    return [(date, by_run.get(past, [])) for past, date in sorted(delivered)]


def alerted_fallbacks(events: Iterable[Mapping[str, Any]], run: str) -> set[tuple[str, str, str]]:
    """The fallbacks (`fallback_key`) of the dates an earlier run than `run` delivered a fetch alert for: a feed
    down all evening alerts once a date, not every half hour (a new error, or a stage failure, alerts again)."""
    return {key for date, past in _delivered(events, run, "fetch_failure") for key in fallbacks(past)
            if key[0] == date}


def notices(events: Iterable[Mapping[str, Any]], field: str) -> list[tuple[str, str, list[str], str]]:
    """What one run's successful fetches noted under `field` - "rejected": the files the DraftKings inbox refused;
    "warning": a source answering without its news - as (date, source, notices, what the slate stands on): each
    notice named once, under the first date whose fetch met it."""
    out: list[tuple[str, str, list[str], str]] = []
    seen: set[str] = set()
    for e in events:
        if e.get("event") != "fetch_success" or not e.get(field):
            continue
        new = [str(r) for r in e[field] if str(r) not in seen]
        seen.update(new)
        if new:
            out.append((str(e.get("game_date", "?")), str(e.get("source")), new, str(e.get("held") or "what it had")))
    return out


def alerted_notices(events: Iterable[Mapping[str, Any]], run: str, field: str, kind: str) -> set[tuple[str, str]]:
    """(date, notice) pairs an earlier run than `run` delivered a `kind` alert of: a file left refused in the inbox,
    or a feed without its news, is alerted once per slate date, not by every run of the day (the run's own output
    names it each time)."""
    return {(date, r) for date, past in _delivered(events, run, kind) for day, _, noted, _ in
            notices(past, field) if day == date for r in noted}
