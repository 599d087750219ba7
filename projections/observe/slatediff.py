"""What changed between two published slates of a date: players added and removed, the biggest moves in the
projection, minutes and ownership, salary changes, and columns that appeared or vanished.

Objects are named by full digest or by a unique hex prefix (what every command prints). Without names, the
date's gold object is compared with the one it replaced (the `previous` of its publish event).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from projections.errors import ConfigError, ObjectNotFound
from projections.hashing import PREFIX, is_digest, short
from projections.observe.events import Events, when
from projections.store import LocalStore
from projections.textsafe import one_line

if TYPE_CHECKING:
    import pandas as pd

MOVERS = ("dk_mean", "proj_minutes", "ownership", "dk_p90", "dk_sd", "salary")
LABELS = {"dk_mean": "projection (dk_mean)", "proj_minutes": "minutes", "ownership": "ownership",
          "dk_p90": "ceiling (dk_p90)", "dk_sd": "spread (dk_sd)", "salary": "salary"}
KEY = "player_id"
SLATE_FILE = "projections.parquet"  # the published slate's table


def resolve(store: LocalStore, text: str, events: Events | None = None, day: str = "") -> str:
    """A full digest for `text` (a digest, or a hex prefix of at least 4 digits naming one object). An object
    that is not in the store is looked up among what gc deleted (`events`), to say so."""
    value = text.strip().lower()
    hexpart = value[len(PREFIX):] if value.startswith(PREFIX) else value
    if is_digest(value):
        if not store.has(value):
            raise _missing(store, hexpart, f"object {short(value)} is not in the store at {store.objects}", events, day)
        return value
    if len(hexpart) < 4 or any(c not in "0123456789abcdef" for c in hexpart):
        raise ConfigError(f"{text!r} is not an object hash: give a digest or at least 4 hex digits of one")
    found = []
    bucket = store.objects / hexpart[:2]
    if bucket.is_dir():
        found = [PREFIX + hexpart[:2] + p.name for p in bucket.iterdir() if (hexpart[:2] + p.name).startswith(hexpart)]
    if not found:
        raise _missing(store, hexpart, f"no object in {store.objects} starts with {hexpart}", events, day)
    if len(found) > 1:
        raise ConfigError(f"{hexpart} names {len(found)} objects ({', '.join(short(f, 14) for f in sorted(found))}); "
                          "give more digits")
    return found[0]


def _missing(store: LocalStore, hexpart: str, message: str, events: Events | None, day: str) -> ObjectNotFound:
    """The error for an object not in the store: gc's deletion of it, when the ledger recorded one."""
    gc = events.deleted_by_gc(hexpart) if events is not None else None
    if gc is None:
        return ObjectNotFound(message)
    listing = f"`projections history {day}` lists" if day else "`projections history DATE` lists"
    return ObjectNotFound(f"object {hexpart[:10]} was deleted by `projections gc` at {when(gc.get('ts'))} (it was "
                          f"kept for neither gold nor the newest {gc.get('keep', 'N')} builds); name objects still in "
                          f"the store ({listing} what was published), or keep more next time (`projections gc "
                          "--keep N`)")


def previous_published(events: Events, day: str, current: str | None) -> str | None:
    """The object the gold pointer of `day` held before `current`, from the ledger's publish events."""
    moves = [e for e in events.publishes(day) if is_digest(e.get("object")) and is_digest(e.get("previous") or
                                                                                            e.get("object"))]
    for e in reversed(moves):  # (a line edited by hand to name no object is no publish)
        if e.get("object") == current and e.get("previous") and e.get("previous") != current:
            return str(e["previous"])
    for e in reversed(moves):
        if e.get("object") and e.get("object") != current:
            return str(e["object"])
    return None


def gold_problem(store: LocalStore, obj: str, day: str) -> str | None:
    """What is wrong with `obj` as the published slate of `day`, or None: damaged (a flipped byte reads as other
    numbers, a truncated file not at all), not a slate (a pointer moved onto a sim object by hand), or the slate of
    another date (a pointer copied across dates: scored against the wrong box scores)."""
    from projections.errors import ProjectionsError

    try:
        problems = store.verify_object(obj, use_cache=True)
        manifest = store.manifest(obj) if not problems else {}
    except ProjectionsError as exc:
        return str(exc)
    if problems:
        return problems[0]
    if (other := _not_a_slate(obj, manifest)) is not None:
        return other
    of = manifest.get("game_date")
    if of and str(of) != day:
        return f"object {short(obj)} is the slate of {of}, not of {day}"
    return None


def _not_a_slate(obj: str, manifest: dict[str, Any]) -> str | None:
    if SLATE_FILE in (manifest.get("files") or {}):
        return None
    return f"object {short(obj)} is a {manifest.get('stage') or 'non-slate'} object, not a published slate"


def _check_slate_of(store: LocalStore, obj: str, day: str) -> None:
    """A named object must be a published slate (what gold points at; of any date): a schedule or a sim object
    has other columns, so a comparison with it says nothing."""
    if (other := _not_a_slate(obj, store.manifest(obj))) is not None:
        raise ConfigError(f"{other}; name two slates (`projections history {day}` lists what was published)")


def load_slate(store: LocalStore, obj: str) -> pd.DataFrame:
    """The slate table of a published slate object (a gold object: `_check_slate_of` refused any other)."""
    import pandas as pd

    return pd.read_parquet(store.path(obj, SLATE_FILE))


@dataclass
class Move:
    player_id: str
    player_name: str
    team: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float:
        return (self.new or 0.0) - (self.old or 0.0)


@dataclass
class SlateDiff:
    game_date: str
    old: str
    new: str
    old_label: str
    new_label: str
    rows: tuple[int, int]
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    changed: dict[str, int] = field(default_factory=dict)
    mean_delta: dict[str, float] = field(default_factory=dict)
    moves: dict[str, list[Move]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.old == self.new

    def as_json(self) -> dict[str, Any]:
        return {
            "game_date": self.game_date, "old": self.old, "new": self.new, "old_label": self.old_label,
            "new_label": self.new_label, "rows": list(self.rows), "added": self.added, "removed": self.removed,
            "columns_added": self.columns_added, "columns_removed": self.columns_removed, "changed": self.changed,
            "mean_delta": self.mean_delta, "missing": self.missing,
            "moves": {c: [{**m.__dict__, "delta": round(m.delta, 4)} for m in ms] for c, ms in self.moves.items()},
        }


def _who(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [c for c in ("player_id", "player_name", "team", "positions", "salary", "dk_mean") if c in frame.columns]
    out = frame[cols].sort_values(cols[-1], ascending=False) if "dk_mean" in cols else frame[cols]
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in out.to_dict("records")]


def compare(old_frame: pd.DataFrame, new_frame: pd.DataFrame, *, game_date: str, old: str, new: str,
            old_label: str = "", new_label: str = "", top: int = 10) -> SlateDiff:
    import pandas as pd

    out = SlateDiff(game_date=game_date, old=old, new=new, old_label=old_label, new_label=new_label,
                    rows=(len(old_frame), len(new_frame)))
    out.columns_added = [c for c in new_frame.columns if c not in old_frame.columns]
    out.columns_removed = [c for c in old_frame.columns if c not in new_frame.columns]
    if KEY not in old_frame.columns or KEY not in new_frame.columns:
        out.missing.append(KEY)
        return out
    a = old_frame.drop_duplicates(KEY).set_index(KEY)
    b = new_frame.drop_duplicates(KEY).set_index(KEY)
    out.added = _who(new_frame[new_frame[KEY].isin(b.index.difference(a.index))])
    out.removed = _who(old_frame[old_frame[KEY].isin(a.index.difference(b.index))])
    both = a.index.intersection(b.index)
    for col in MOVERS:
        if col not in a.columns or col not in b.columns:
            out.missing.append(col)
            continue
        olds = pd.to_numeric(a.loc[both, col], errors="coerce").astype("float64")
        news = pd.to_numeric(b.loc[both, col], errors="coerce").astype("float64")
        delta = (news - olds).fillna(0.0)
        moved = delta[delta.abs() > 1e-9]
        out.changed[col] = len(moved)
        if len(moved):
            out.mean_delta[col] = round(float(moved.mean()), 4)
        order = moved.abs().sort_values(ascending=False, kind="stable").index[:top]
        names = b["player_name"] if "player_name" in b.columns else pd.Series(dict.fromkeys(b.index, ""))
        teams = b["team"] if "team" in b.columns else pd.Series(dict.fromkeys(b.index, ""))
        out.moves[col] = [Move(str(pid), str(names.get(pid, "")), str(teams.get(pid, "")),
                               None if pd.isna(olds[pid]) else float(olds[pid]),
                               None if pd.isna(news[pid]) else float(news[pid])) for pid in order]
    return out


def unpublished(asset: str, day: str, kind: str | None) -> str:
    """Why `day` has no gold pointer to compare, from the archive calendar's word on it (`kind`,
    archive_calendar.Calendar.kind; None in live mode), and the fix: an off day has none to build."""
    head = f"no gold pointer gold/{asset}/game_date={day}: nothing published for {day}"
    if kind == "no games":
        return f"{head}: the archive has no games that day (an off day: there is no slate to publish)"
    if kind == "no salaries":
        return (f"{head}: the archive has its games but no DraftKings salaries; add them with `projections ingest "
                f"dk-salaries FILE`, then `doit slate date={day}`")
    if kind == "unknown":
        from projections.archive_calendar import OUTSIDE_FIX

        return f"{head}: the archive's schedule does not cover it; {OUTSIDE_FIX}"
    return f"{head} yet (run `doit slate date={day}`), or name two objects"


def diff_date(store: LocalStore, events: Events, day: str, asset: str = "projections", *,
              old: str | None = None, new: str | None = None, top: int = 10, kind: str | None = None) -> SlateDiff:
    """Compare two objects of `day` (default: the gold object against the one it replaced); `kind` is the archive
    calendar's word on the day, for the message when nothing was published (None in live mode)."""
    pointer = store.read_pointer(asset, day)
    if new is None and old is None:
        if pointer is None:
            raise ConfigError(unpublished(asset, day, kind))
        if not store.has(pointer):
            raise ObjectNotFound(f"the gold pointer of {day} names {short(pointer)}, which is not in the store (a "
                                 f"dangling pointer); `doit slate date={day}` rebuilds it, or name two objects")
        if (wrong := gold_problem(store, pointer, day)) is not None:
            raise ObjectNotFound(f"the gold pointer of {day} names a slate it cannot show: {wrong}; `doit slate "
                                 f"date={day}` publishes the date's own (`projections verify` lists such pointers)")
        previous = previous_published(events, day, pointer)
        if previous is None:
            raise ConfigError(f"{day} was published once ({short(pointer)}); there is no earlier slate to compare "
                              f"with - name two objects: projections diff {day} HASH_A HASH_B")
        if not store.has(previous):
            raise ConfigError(f"the slate {day} had before {short(pointer)} ({short(previous)}) was removed by "
                              f"`projections gc`, so there is nothing to compare with; name two objects still in "
                              f"the store (projections diff {day} HASH_A HASH_B; `projections history {day}` lists "
                              "what was published), or keep more of them next time (`projections gc --keep N`)")
        new, old = pointer, previous
    elif new is None or old is None:
        raise ConfigError("name both objects (HASH_A HASH_B), or neither for the gold object and the one before it")
    else:
        old, new = resolve(store, old, events, day), resolve(store, new, events, day)
        for obj in (old, new):
            _check_slate_of(store, obj, day)
    for obj in (old, new):  # read below: a damaged one is named, never a pyarrow traceback
        if (problems := store.verify_object(obj, use_cache=True)):
            raise ObjectNotFound(f"object {short(obj)} is damaged ({problems[0]}); `projections verify` lists the "
                                 f"damage, and the next build that needs it makes it again")
    labels = {}
    for obj in (old, new):
        moved = [e for e in events.publishes(day) if e.get("object") == obj]
        replaced = [e for e in events.publishes(day) if e.get("previous") == obj]
        of = str(store.manifest(obj).get("game_date") or day)
        label = (f"published {when(moved[-1].get('ts'))}" if moved else
                 f"published by a run that did not record it, replaced {when(replaced[0].get('ts'))}" if replaced
                 else f"a slate of {of}, not of {day}" if of != day else "never published for this date")
        if obj == pointer:
            label += ", the gold object"
        labels[obj] = label
    return compare(load_slate(store, old), load_slate(store, new), game_date=day, old=old, new=new,
                   old_label=labels[old], new_label=labels[new], top=top)


def percent(value: float) -> str:
    """An ownership value, which is in percent already (a slate's sum to 800): `14.3%`, `0.14%` below 1%."""
    return f"{value:.2f}%" if abs(value) < 1.0 else f"{value:.1f}%"


def _num(value: float | None, col: str) -> str:
    if value is None:
        return "-"
    if col == "salary":
        return f"${value:,.0f}"
    if col == "ownership":
        return percent(value)
    return f"{value:.2f}"


def render(d: SlateDiff) -> str:
    lines = [f"diff {d.game_date}:",
             f"  - {short(d.old)}  ({d.old_label}, {d.rows[0]} players)",
             f"  + {short(d.new)}  ({d.new_label}, {d.rows[1]} players)"]
    if d.identical:
        lines.append("  the same object: nothing changed")
        return "\n".join(lines)
    lines.append(f"players: {len(d.added)} added, {len(d.removed)} removed")
    for label, people in (("+", d.added), ("-", d.removed)):
        for p in people[:15]:
            extra = f"  {one_line(p['team'])}" if "team" in p else ""
            extra += f"  ${p['salary']:,}" if isinstance(p.get("salary"), int) else ""
            extra += f"  proj {p['dk_mean']:.2f}" if isinstance(p.get("dk_mean"), float) else ""
            lines.append(f"  {label} {one_line(p.get('player_name', p['player_id']))}{extra}")
        if len(people) > 15:
            lines.append(f"  {label} ... and {len(people) - 15} more")
    if d.columns_added or d.columns_removed:
        lines.append(f"columns: added {d.columns_added or 'none'}, removed {d.columns_removed or 'none'}")
    for col, moves in d.moves.items():
        n = d.changed.get(col, 0)
        if not n:
            lines.append(f"{LABELS[col]}: unchanged")
            continue
        lines.append(f"{LABELS[col]}: {n} player(s) moved, mean {d.mean_delta[col]:+.2f}; biggest:")
        width = max(len(one_line(m.player_name)) for m in moves)
        for m in moves:
            lines.append(f"  {one_line(m.player_name):<{width}}  {one_line(m.team):<4} {_num(m.old, col):>8} -> "
                         f"{_num(m.new, col):>8}  ({m.delta:+.2f})")
    absent = [c for c in d.missing if c != KEY]
    if absent:
        lines.append(f"not compared (column missing in one or both): {', '.join(absent)}")
    return "\n".join(lines)
