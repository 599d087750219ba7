"""The DraftKings inbox on the daily path: real exports (shared/data/nba/salaries/dk), reshaped the way a day goes -
an early slate before the main one, a correction after the lock, a file dated to a day without games - through
`projections.sources.inbox` against the shipped archive. (Mutation audit of inbox.py: each test names what it
pins.)"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from projections.sources import backends, files, snapshots
from projections.sources.inbox import ingest_dk, read_dk
from tests.conftest import SHARED
from tests.sources.conftest import FakeTime, env_for, http_for, live_settings
from tests.sources.payloads import csv_bytes

DK_DIR = SHARED / "salaries" / "dk"
DK_2019 = DK_DIR / "2019-11-01__bradical1379__DKSalaries__f09c750c.csv"  # 8 games, the date's whole slate
DK_1030 = DK_DIR / "2019-10-30__bradical1379__DKSalaries__cda50cde.csv"  # 11 games, first tip 23:00Z
DAY, DAY_1030 = dt.date(2019, 11, 1), dt.date(2019, 10, 30)
LOCK = dt.datetime(2019, 10, 30, 23, 0, tzinfo=dt.UTC)
MORNING = dt.datetime(2019, 11, 1, 15, 0, tzinfo=dt.UTC)  # before 2019-11-01's first tip (23:00Z)


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _early_slate(games: tuple[str, ...]) -> bytes:
    """Games of DK_2019 under new DraftKings ids: an early slate of the same date (real players and salaries)."""
    return csv_bytes([dict(r, ID=str(int(r["ID"]) + 10**6), **{"Name + ID": f"{r['Name']} ({int(r['ID']) + 10**6})"})
                   for r in _rows(DK_2019) if r["Game Info"].split(" ")[0] in games])


def _salaries(home: Path, day: dt.date, as_of: dt.datetime | None) -> pd.DataFrame:
    entry = snapshots.select(snapshots.entries(home, "salaries", day), as_of)
    assert entry is not None
    return pd.read_parquet(snapshots.data_path(home, entry))


def _fetch(home: Path, fake: FakeTime, now: dt.datetime, day: dt.date = DAY_1030) -> dict:
    settings = live_settings(home, None)
    with http_for(settings, fake) as http:
        return backends.run("salaries", env_for(settings), day, now, http=http)


def test_an_early_slate_taken_alone_says_the_projections_cover_its_games_only(tmp_path: Path) -> None:
    """The morning's early slate (2 of the date's 8 games) is the only DraftKings slate known: the ingest says the
    date's projections cover its games only until the main slate's file comes (README, live mode). The main slate
    taken next stands beside it and says nothing: it covers every game of the date.
    Kills: the second branch of `_coverage` dropped; `mine < len(playing)` made `<=` (a full slate noted)."""
    home = tmp_path / "home"
    early = ingest_dk(home, _early_slate(("NY@BOS", "HOU@BKN")), "early.csv", MORNING)
    assert early.day == DAY and early.players == 68 and early.replaced == []
    assert early.notes == [f"{early.slate_id} has 2 of the 8 games on 2019-11-01: the date's projections cover only "
                           "its games until the main slate's DKSalaries.csv is ingested"]
    main = ingest_dk(home, DK_2019.read_bytes(), "DKSalaries.csv", MORNING)
    assert main.notes == [] and main.replaced == [], main.notes
    held = _salaries(home, DAY, MORNING)
    assert held.groupby("slate_id").size().to_dict() == {early.slate_id: 68, main.slate_id: 268}


def test_a_file_dated_to_a_day_without_games_is_refused(tmp_path: Path) -> None:
    """A real export whose Game Info was edited to Christmas Eve 2019, a day the archive's schedule holds no game:
    taken, it would make a salary snapshot of a date no stage can build. (A date only a fetched schedule knows is
    not judged: the archive cannot vouch for it.)
    Kills: an in-season day without games refused as a preseason slate (the `day < opening` test loosened);
    `_scheduled_teams` answering None ("cannot vouch") for every day the archive has no game."""
    rows = [dict(r, **{"Game Info": r["Game Info"].replace("11/01/2019", "12/24/2019")}) for r in _rows(DK_2019)]
    with pytest.raises(files.BadFile, match=r"DKSalaries\.csv: its Game Info dates it 2019-12-24, but BKN, BOS, .* do "
                                            r"not play on 2019-12-24 per the archive's schedule \(there are no NBA "
                                            r"games that day\); the file belongs to another date or was edited"):
        read_dk(tmp_path / "home", csv_bytes(rows), "DKSalaries.csv")
    assert not (tmp_path / "home").exists()


def test_a_correction_dropped_after_the_lock_is_what_the_locked_slate_reads(tmp_path: Path, fake: FakeTime) -> None:
    """A corrected export dropped after the first tip replaces the slate as known before the lock (README: "a file
    dropped after the first tip is still taken, stamped as known before it"): a build at the lock, and the clock's
    own read, see the corrected salary, not the morning's.
    Kills: an archival capture stamped at the slate date's start instead of after the captures already recorded
    before the lock (the morning file then stays the one the locked slate reads)."""
    home = tmp_path
    (home / "inbox").mkdir()
    rows = _rows(DK_1030)
    (home / "inbox" / "DKSalaries.csv").write_bytes(csv_bytes(rows))
    morning = _fetch(home, fake, dt.datetime(2019, 10, 30, 20, tzinfo=dt.UTC))
    assert morning["captured_at"] == "2019-10-30T20:00:00.000Z"
    player = int(rows[0]["ID"])
    corrected = int(rows[0]["Salary"]) + 100
    (home / "inbox" / "DKSalaries.csv").write_bytes(csv_bytes([dict(rows[0], Salary=str(corrected)), *rows[1:]]))
    late = _fetch(home, fake, dt.datetime(2019, 10, 31, 1, tzinfo=dt.UTC))
    assert late["taken"] and late["rejected"] is None
    for as_of in (LOCK, None):
        held = _salaries(home, DAY_1030, as_of).set_index("dk_id")
        assert len(held) == len(rows) and held.loc[player, "salary"] == corrected, as_of


def test_a_first_file_taken_after_the_lock_claims_no_change_to_a_locked_slate(tmp_path: Path) -> None:
    """The note "taken after the slate's lock ... the locked slate's projections change with it" belongs to a file
    that replaces a slate already known. The day's first file taken half an hour after the first tip (the archive
    holds this very slate) replaces nothing, and must not say it moved a locked slate.
    Kills: the note given for any file taken in the 12 hours after the lock; the archive's own copy of the slate
    (same players and salaries, its slate id made another way) reported as replaced (`_alike` skipped)."""
    took = ingest_dk(tmp_path / "home", DK_1030.read_bytes(), "DKSalaries.csv", LOCK + dt.timedelta(minutes=30))
    assert took.replaced == [] and took.notes == [], took.notes


def _edit(row: int, **cells: str):  # type: ignore[no-untyped-def]
    return lambda rows: [dict(r, **cells) if i == row else r for i, r in enumerate(rows)]


@pytest.mark.parametrize("damage, says", [
    # a name a spreadsheet runs as a formula in dk_projections.csv, whichever sign starts it ('=' is tested elsewhere)
    *[(_edit(3, Name=f"{sign}SUM(A1:A9)"), rf"line 5, column 'Name': '\{sign}SUM\(A1:A9\)' \(a name that starts "
       r"like a spreadsheet formula") for sign in "+-@"],
    (_edit(3, Name="LeBron\x1b[2JJames"), r"line 5, column 'Name': 'LeBron\\x1b\[2JJames' \(a name that starts like "
     r"a spreadsheet formula or holds a control character"),  # a terminal escape reaching every report
    (_edit(1, Salary="0"), r"line 3, column 'Salary': '?0'? \(not a salary\)"),  # a free player: every lineup's
    (_edit(0, TeamAbbrev="LAL"), r"line 2: TeamAbbrev LAL is not in its Game Info game HOU@BKN"),  # a wrong team
    # an id that is no whole number was cut to another (13663902.7 taken as 13663902): a lineup upload names him
    (lambda rows: [dict(r, ID=r["ID"] + ".7") if i == 2 else r for i, r in enumerate(rows)],
     r"line 4, column 'ID': '?\d+\.7'? \(not a whole number\); ID must be DraftKings' numeric player id"),
    # a sign or a zero is no id either, and the refusal said "not a whole number" of -13663902
    (_edit(2, ID="0"), r"line 4, column 'ID': '?0'? \(not an id: DraftKings ids are above 0\)"),
    (lambda rows: [dict(r, ID="-" + r["ID"]) if i == 2 else r for i, r in enumerate(rows)],
     r"line 4, column 'ID': '?-\d+'? \(not an id: DraftKings ids are above 0\)"),
    # an id of 2**53 or more was refused as "DraftKings ids are above 0": it is above 0, and too large to hold
    *[(_edit(2, ID=big), rf"line 4, column 'ID': '?{big}'? \(too large to be a DraftKings id \(theirs have 8 "
       r"digits; from 2\*\*53 = 9,007,199,254,740,992 on a number cannot be held exactly")
      for big in ("9007199254740992", "9007199254740993", "123456789012345678901234")],
    # the same player twice under two DraftKings ids (a row pasted twice, its id changed)
    (lambda rows: [*rows, dict(rows[5], ID=str(int(rows[5]["ID"]) + 10**6))],
     r"players \['Luka Doncic', 'Luka Doncic'\] appear twice; the export is damaged - download it again"),
])
def test_a_damaged_row_is_refused_naming_it(tmp_path: Path, damage, says: str) -> None:  # type: ignore[no-untyped-def]
    """Real rows of DK_2019 edited the way a copy goes wrong. Each was taken (ingested silently) when its check
    was lost. Kills: '+', '-', '@' or control characters let through `_player_name`; a salary of 0 accepted
    (`0 <= amount`); a fractional ID cut to a whole one (`int(float(v))`); the TeamAbbrev-in-game check dropped;
    the duplicate-player check dropped."""
    rows = _rows(DK_2019)
    with pytest.raises(files.BadFile, match=says):
        read_dk(tmp_path, csv_bytes(damage(rows)), "DKSalaries.csv")


def test_ids_saved_by_a_spreadsheet_as_whole_decimals_are_the_same_ids(tmp_path: Path) -> None:
    """A DKSalaries.csv saved again by a spreadsheet may write 13663902 as "13663902.0": the same players, the same
    ids, as Int64 (as every DraftKings file is read)."""
    _, plain = read_dk(tmp_path, DK_2019.read_bytes(), "DKSalaries.csv")
    _, resaved = read_dk(tmp_path, csv_bytes([dict(r, ID=f"{r['ID']}.0") for r in _rows(DK_2019)]), "DKSalaries.csv")
    assert resaved["dk_id"].dtype == plain["dk_id"].dtype == "Int64"
    assert resaved["dk_id"].tolist() == plain["dk_id"].tolist() and len(plain) == 268


def test_the_largest_id_a_float_holds_exactly_is_taken_as_it_is(tmp_path: Path) -> None:
    """2**53 - 1 is the last whole number read through a float without loss: taken, to the digit (the refusal
    starts at 2**53, not one below it)."""
    rows = _rows(DK_2019)
    _, frame = read_dk(tmp_path, csv_bytes(_edit(2, ID=str(2**53 - 1))(rows)), "DKSalaries.csv")
    assert frame["dk_id"].iloc[2] == 2**53 - 1


def test_two_days_in_one_file_are_refused_as_such(tmp_path: Path) -> None:
    """Two real exports (2019-10-30 and 2019-11-01) pasted into one file: refused as a file of several dates, with
    the fix (split it), not taken as one slate dated by its first row nor refused for a symptom ("players appear
    twice"). Kills: the one-date check of `dk_salaries` dropped."""
    with pytest.raises(files.BadFile, match=r"DKSalaries\.csv: column 'Game Info' names several dates "
                                            r"\['2019-10-30', '2019-11-01'\]; a classic slate is one date - split "
                                            r"the file by date"):
        read_dk(tmp_path, csv_bytes(_rows(DK_1030) + _rows(DK_2019)), "DKSalaries.csv")


def test_a_file_of_the_header_alone_says_it_has_no_rows(tmp_path: Path) -> None:
    """A download that stopped after its first line (or an export of a slate with no player yet) holds the header
    alone: it is said to have no rows, not refused as a showdown slate. Kills: `_csv`'s empty-table check dropped."""
    header = DK_2019.read_bytes().split(b"\n", 1)[0] + b"\n"
    with pytest.raises(files.BadFile, match=r"^DKSalaries\.csv: no rows; download the slate's salary CSV"):
        read_dk(tmp_path, header, "DKSalaries.csv")


def test_a_date_left_without_salaries_says_what_the_inbox_held(tmp_path: Path, fake: FakeTime) -> None:
    """2023-01-16 is no archived date: without a DraftKings file its live run fails, and the error says why - an
    empty inbox holds no file for it; a file refused stays there and is quoted, so the person sees the fix (the
    damaged cell) rather than being told to download the file they just dropped. The same file whole is taken.
    Kills: the refused file left out of the error; the empty-inbox and missing-inbox wording swapped."""
    from projections.errors import SourceError

    day, now = dt.date(2023, 1, 16), dt.datetime(2023, 1, 16, 15, tzinfo=dt.UTC)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with pytest.raises(SourceError, match=rf"^salaries: no DraftKings salaries for 2023-01-16 in the inbox {inbox}; it "
                                          r"holds no file for 2023-01-16 - download the slate's DKSalaries\.csv"):
        _fetch(tmp_path, fake, now, day)
    good = DK_DIR / "2023-01-16__chasebroder__DKSalaries__d62277f1.csv"
    rows = _rows(good)
    unreadable = [dict(r, Salary="N/A") if i == 2 else r for i, r in enumerate(rows)]
    (inbox / "DKSalaries.csv").write_bytes(csv_bytes(unreadable))
    with pytest.raises(SourceError, match=r"in the inbox .*; unreadable files left there: DKSalaries\.csv: line 4, "
                                          r"column 'Salary': 'N/A' \("):
        _fetch(tmp_path, fake, now, day)
    assert (inbox / "DKSalaries.csv").is_file() and not snapshots.entries(tmp_path, "salaries", day)
    (inbox / "DKSalaries.csv").write_bytes(good.read_bytes())
    taken = _fetch(tmp_path, fake, now, day)
    assert taken["rows"] == len(rows) == 66 and taken["rejected"] is None


def test_a_new_export_thinning_a_game_is_refused_and_half_the_games_gone_is_a_note(tmp_path: Path) -> None:
    """A new export of a known slate (the same DraftKings ids) replaces it whole, so a copy that lists a game with
    20 of its 34 players (a filtered copy) is refused; one whose games are whole but half of them gone (four
    games postponed after the first export; "most of its games gone" is the refusal) is taken, naming them.
    Kills: SHRINK lowered to a half (a game at 59% passed); "half the games gone" refused as "most"."""
    home = tmp_path / "home"
    rows = _rows(DK_2019)
    ingest_dk(home, csv_bytes(rows), "DKSalaries.csv", MORNING)
    bos = [r for r in rows if r["Game Info"].startswith("NY@BOS")]
    thinned = [r for r in rows if not r["Game Info"].startswith("NY@BOS")] + bos[:20]
    with pytest.raises(files.BadFile, match=r"DKSalaries \(1\)\.csv: a new export of slate dk-2019-11-01-\w+ \(the "
                                            r"same DraftKings ids\) that lists fewer players of BOS@NYK \(254 players, "
                                            r"the slate has 268\)"):
        ingest_dk(home, csv_bytes(thinned), "DKSalaries (1).csv", MORNING)
    gone = ("NY@BOS", "HOU@BKN", "DET@CHI", "CLE@IND")
    kept = [r for r in rows if r["Game Info"].split(" ")[0] not in gone]
    half = ingest_dk(home, csv_bytes(kept), "DKSalaries (2).csv", MORNING)
    assert len(half.replaced) == 1 and half.players == 268 - 135
    assert half.notes == [f"BKN@HOU, BOS@NYK, CHI@DET, CLE@IND left slate {half.replaced[0]} (postponed?): its players "
                          "are no longer on it"]


def test_a_correction_after_the_lock_brings_no_archive_hindsight_into_a_live_slate(tmp_path: Path) -> None:
    """2019-11-01 captured live (the morning's file alone), then a corrected export taken after the first tip: the
    slate as known at the lock is the corrected file alone. The archive's daily table of the date (rotoguru rows,
    with the starters known after the games) must not join a capture that counts as known before the lock.
    Kills: the mend of an older snapshot (archive slates joining it) applied to one sharing DraftKings ids with
    the archive's copy of its slate."""
    home = tmp_path / "home"
    rows = _rows(DK_2019)
    ingest_dk(home, csv_bytes(rows), "DKSalaries.csv", MORNING)
    corrected = int(rows[0]["Salary"]) - 100
    late = ingest_dk(home, csv_bytes([dict(rows[0], Salary=str(corrected)), *rows[1:]]), "DKSalaries (1).csv",
                     dt.datetime(2019, 11, 2, 0, 30, tzinfo=dt.UTC))
    held = _salaries(home, DAY, dt.datetime(2019, 11, 1, 23, 0, tzinfo=dt.UTC))
    assert set(held["source"]) == {"dk"} and set(held["slate_id"]) == {late.slate_id} and len(held) == 268
    assert held.set_index("dk_id").loc[int(rows[0]["ID"]), "salary"] == corrected
