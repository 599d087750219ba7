"""projections/identity.py: team codes, name keys and DraftKings scoring, checked against the real data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from projections.identity import (
    NAME_ALIASES,
    NBA_TEAMS,
    _check_aliases,
    canonical_key,
    dk_points,
    flip_last_first,
    name_key,
    split_bbref,
    team_code,
)

REPO = Path(__file__).resolve().parent.parent
ARCHIVE = REPO / "projections" / "data" / "archive"


def _data_dir() -> Path | None:
    for candidate in (REPO.parent / "shared" / "data" / "nba", Path("/work/shared/data/nba")):
        if (candidate / "PROVENANCE.csv").is_file():
            return candidate
    return None


DATA = _data_dir()
needs_data = pytest.mark.skipif(DATA is None, reason="shared/data/nba (../shared/data/nba from the repo) is absent")


@pytest.mark.parametrize(("raw", "code"), [
    # DraftKings (2018-2020 files use the short forms, later ones the nba.com codes)
    ("GS", "GSW"), ("GSW", "GSW"), ("NY", "NYK"), ("NO", "NOP"), ("SA", "SAS"), ("PHO", "PHX"), ("PHX", "PHX"),
    # Basketball-Reference and rotoguru
    ("BRK", "BKN"), ("CHO", "CHA"), ("NOR", "NOP"),
    # odds/nba_2008-2025_raw.csv
    ("gs", "GSW"), ("utah", "UTA"), ("ny", "NYK"), ("no", "NOP"), ("sa", "SAS"), ("wsh", "WAS"), ("bkn", "BKN"),
    # sportsbookreviewsonline and the injury report
    ("NewOrleans", "NOP"), ("LALakers", "LAL"), ("LAClippers", "LAC"), ("GoldenState", "GSW"),
    ("OklahomaCity", "OKC"), ("LA Clippers", "LAC"), ("Los Angeles Lakers", "LAL"),
    ("Portland Trail Blazers", "POR"), ("Philadelphia 76ers", "PHI"),
])
def test_team_code_variants(raw: str, code: str) -> None:
    assert team_code(raw) == code


def test_every_nba_code_maps_to_itself() -> None:
    assert [team_code(c) for c in NBA_TEAMS] == list(NBA_TEAMS)


def test_unknown_team_names_the_value_and_the_fix() -> None:
    with pytest.raises(ValueError, match=r"'Seattle SuperSonics'.*_TEAM_SPELLINGS"):
        team_code("Seattle SuperSonics")


def test_team_code_refuses_a_missing_or_blank_team_with_a_value_error() -> None:
    """Without the type check a NaN team (a missing cell) raised AttributeError, which callers catching
    ValueError for bad teams let through; a blank one was reported as an unknown spelling to add."""
    for raw in (float("nan"), None, 1610612747):
        with pytest.raises(ValueError, match="expected a team name or code"):
            team_code(raw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected a team name or code"):
        team_code("   ")


def _spellings_in_sources(data: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    odds = pd.read_csv(data / "odds" / "nba_2008-2025_raw.csv", usecols=["away", "home"])
    found["odds"] = set(odds["away"]) | set(odds["home"])
    found["sbr"] = set(pd.read_csv(data / "odds" / "sbr_2019-20.csv", encoding="utf-8-sig")["Team"])
    found["bbref"] = set()
    for path in sorted((data / "logs" / "bbref").glob("*.csv")):
        frame = pd.read_csv(path, usecols=["Tm", "Opp"])
        found["bbref"] |= set(frame["Tm"]) | set(frame["Opp"])
    found["nbacom"] = set()
    for path in sorted((data / "logs" / "nbacom").glob("*.csv")):
        found["nbacom"] |= set(pd.read_csv(path, usecols=["TEAM_ABBREVIATION"])["TEAM_ABBREVIATION"])
    found["rotoguru"] = set()
    for path in sorted((data / "salaries" / "rotoguru").glob("*.csv")):
        found["rotoguru"] |= set(pd.read_csv(path, usecols=["team"])["team"])
    found["dk"] = set()
    manifest = pd.read_csv(data / "salaries" / "dk" / "MANIFEST.csv")
    for name in manifest["file"]:
        frame = pd.read_csv(data / "salaries" / "dk" / name, usecols=["TeamAbbrev", "Game Info"])
        found["dk"] |= set(frame["TeamAbbrev"])
        found["dk"] |= {t for info in frame["Game Info"] for t in info.split()[0].split("@")}
    found["injuries"] = set()
    for path in sorted((data / "injuries" / "2020" / "csv").glob("*.csv")):
        frame = pd.read_csv(path, usecols=["Team", "Matchup"], dtype=str)
        found["injuries"] |= set(frame["Team"].dropna())
        found["injuries"] |= {t for m in frame["Matchup"].dropna() for t in m.split("@")}
    return found


@needs_data
def test_every_team_spelling_in_the_sources_maps_to_an_nba_code() -> None:
    assert DATA is not None
    found = _spellings_in_sources(DATA)
    for source, spellings in found.items():
        codes = {team_code(s) for s in spellings}
        assert codes <= set(NBA_TEAMS), source
        assert len(codes) == 30, f"{source} should name all 30 teams, got {sorted(codes)}"
    assert {"GS", "NY", "NO", "SA", "PHO", "GSW", "NYK", "NOP", "PHX"} <= found["dk"]  # never "SAS"
    assert {"BRK", "CHO", "PHO"} <= found["bbref"]
    assert {"NOR", "PHO"} <= found["rotoguru"]
    assert {"gs", "utah", "ny", "no", "sa", "wsh"} <= found["odds"]
    assert {"LA Clippers", "Los Angeles Lakers"} <= found["injuries"]
    assert {"NewOrleans", "LALakers"} <= found["sbr"]


@pytest.mark.parametrize(("raw", "key"), [
    ("Luka Dončić", "luka doncic"),
    ("Nikola Jokić", "nikola jokic"),
    ("Dāvis Bertāns", "davis bertans"),
    ("Marvin Bagley III", "marvin bagley"),
    ("Wendell Carter Jr.", "wendell carter"),
    ("Marcus Morris Sr.", "marcus morris"),
    ("Kevin Knox II", "kevin knox"),
    ("Lonnie Walker IV", "lonnie walker"),
    ("Wade Baldwin IV", "wade baldwin"),
    ("Jrue Holiday", "jrue holiday"),  # a suffix is a whole word only
    ("D'Angelo Russell", "dangelo russell"),
    ("D’Angelo Russell", "dangelo russell"),  # curly apostrophe, as typed by word processors
    ("D`Angelo Russell", "dangelo russell"),
    ("Devonte' Graham", "devonte graham"),
    ("P.J. Tucker", "pj tucker"),
    ("J.J. Redick", "jj redick"),
    ("Karl-Anthony Towns", "karl anthony towns"),
    ("  Otto   Porter Jr. ", "otto porter"),
    ("Jakob Poeltl", "jakob poeltl"),
])
def test_name_key(raw: str, key: str) -> None:
    assert name_key(raw) == key


def test_name_key_rejects_non_names() -> None:
    with pytest.raises(ValueError, match="not a name"):
        name_key(" Jr. ")
    with pytest.raises(ValueError, match="expected a person's name"):
        name_key(float("nan"))  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "same_as"), [
    ("Mohamed Bamba", "Mo Bamba"),  # bbref vs nba.com
    ("Taurean Waller-Prince", "Taurean Prince"),
    ("Moe Harkless", "Maurice Harkless"),  # DraftKings vs nba.com
    ("Guillermo Hernangomez", "Willy Hernangomez"),
    ("Enes Kanter", "Enes Freedom"),
])
def test_aliases_join_the_names_the_sources_disagree_on(raw: str, same_as: str) -> None:
    assert canonical_key(raw) == canonical_key(same_as)


@needs_data
def test_suffixed_names_in_the_player_map_key_like_their_bare_names() -> None:
    """DraftKings writes "Gary Trent Jr." where Basketball-Reference writes "Gary Trent"; without stripping
    every suffix those players' salaries and logs did not join."""
    assert DATA is not None
    players = pd.read_csv(DATA / "misc" / "player_map.csv", usecols=["dk_name", "bbr_name"]).dropna()
    suffixed = players[players["dk_name"].str.contains(r" (?:Jr\.?|Sr\.?|II|III|IV)$")]
    assert len(suffixed) >= 5, "the check needs suffixed DraftKings names"
    for dk_name, bbr_name in zip(suffixed["dk_name"], suffixed["bbr_name"], strict=True):
        assert name_key(dk_name) == name_key(bbr_name), (dk_name, bbr_name)


def test_alias_chains_are_refused() -> None:
    """An alias pointing at another alias resolved only one step, so the two sources still did not join;
    the guard must refuse the chain yet accept an alias whose target maps to itself."""
    with pytest.raises(ValueError, match=r"chains 'moe harkless' -> 'maurice harkless' -> 'mo harkless'"):
        _check_aliases({"moe harkless": "maurice harkless", "maurice harkless": "mo harkless"})
    assert _check_aliases({"mohamed bamba": "mo bamba", "mo bamba": "mo bamba"}) == {"mohamed bamba": "mo bamba"}
    assert _check_aliases(NAME_ALIASES) == NAME_ALIASES
    for src, dst in NAME_ALIASES.items():
        assert canonical_key(src) == dst and canonical_key(dst) == dst


def test_split_bbref_refuses_an_empty_name_or_slug() -> None:
    """A cell with nothing on one side of the backslash gave a player with no name or no id."""
    for cell in ("\\adebaba01", "  \\adebaba01", "Bam Adebayo\\", "Bam Adebayo\\  ", "\\"):
        with pytest.raises(ValueError, match="Name\\\\slug"):
            split_bbref(cell)


def test_flip_last_first_tidies_spaces_in_names_without_a_comma() -> None:
    """Only "Last, First" names had their spaces normalised; "  Nene   Hilario " kept its stray spaces."""
    assert flip_last_first("  Nene   Hilario ") == "Nene Hilario"
    assert flip_last_first("Lonnie\tWalker IV") == "Lonnie Walker IV"


def test_split_bbref_and_flip() -> None:
    assert split_bbref("Bam Adebayo\\adebaba01") == ("Bam Adebayo", "adebaba01")
    assert split_bbref("Dāvis Bertāns\\bertada01") == ("Dāvis Bertāns", "bertada01")
    with pytest.raises(ValueError, match="Name\\\\slug"):
        split_bbref("Bam Adebayo")
    assert flip_last_first("Bagley III, Marvin") == "Marvin Bagley III"
    assert flip_last_first("Martin Jr., Kenyon") == "Kenyon Martin Jr."
    assert flip_last_first("Nene") == "Nene"


# Real 2019-10-30 box-score lines (logs/bbref/2019-20_season.csv): pts, 3pm, reb, ast, stl, blk, tov -> DK points
REAL_LINES = [
    ("Kris Dunn (no bonus)", (8, 0, 1, 4, 2, 0, 0), 19.25),
    ("Kevin Love (double-double 17/20)", (17, 1, 20, 6, 1, 0, 3), 53.5),
    ("Russell Westbrook (triple-double 17/10/12)", (17, 1, 10, 12, 2, 1, 4), 56.5),
    ("Derrick Rose (one category at 10)", (16, 0, 0, 10, 0, 0, 2), 31.5),
]


def test_dk_double_double_counts_blocks_and_steals_at_exactly_ten() -> None:
    """Blocks and steals are double-double categories at 10, not 11: Whiteside's real 15-rebound, 10-block
    line (2019-11-29) earns the 1.5 bonus, and so does a 10-steal, 10-point line or a 10-steal, 10-block one."""
    # logs/bbref/2019-20_season.csv, Hassan Whiteside 2019-11-29: 8 pts, 0 3pm, 15 reb, 1 ast, 1 stl, 10 blk, 2 tov
    assert dk_points(8, 0, 15, 1, 1, 10, 2) == pytest.approx(49.25 + 1.5)
    assert dk_points(10, 0, 0, 0, 10, 0, 0) == pytest.approx(30.0 + 1.5)
    assert dk_points(0, 0, 0, 0, 10, 10, 0) == pytest.approx(40.0 + 1.5)
    assert dk_points(10, 0, 10, 0, 0, 10, 0) == pytest.approx(42.5 + 1.5 + 3.0)
    assert dk_points(10, 0, 0, 0, 9, 9, 0) == pytest.approx(46.0)


@pytest.mark.parametrize(("who", "line", "points"), REAL_LINES, ids=[r[0] for r in REAL_LINES])
def test_dk_points_on_real_box_scores(who: str, line: tuple[int, ...], points: float) -> None:
    assert dk_points(*line) == pytest.approx(points)


def test_dk_points_vectorises() -> None:
    columns = list(zip(*(line for _, line, _ in REAL_LINES), strict=True))
    expected = [points for _, _, points in REAL_LINES]
    as_numpy = dk_points(*(np.array(c) for c in columns))
    assert isinstance(as_numpy, np.ndarray)
    np.testing.assert_allclose(as_numpy, expected)
    index = pd.Index([10, 11, 12, 13])
    as_pandas = dk_points(*(pd.Series(c, index=index) for c in columns))
    assert isinstance(as_pandas, pd.Series)
    pd.testing.assert_index_equal(as_pandas.index, index)
    np.testing.assert_allclose(as_pandas.to_numpy(), expected)


def test_triple_double_bonus_stacks_as_draftkings_own_averages_show() -> None:
    """DK's AvgPointsPerGame equals the season mean of dk_points only if a triple-double earns 1.5 + 3."""
    logs = pd.read_parquet(ARCHIVE / "player_logs" / "2018-19.parquet")
    salaries = pd.read_parquet(ARCHIVE / "salaries" / "2018-19.parquet")
    for slate_id, player_id, day in (("dk-2018-11-24-bff5553d", "201566", dt.date(2018, 11, 24)),  # Westbrook
                                     ("dk-2018-11-25-aaea51e9", "1627732", dt.date(2018, 11, 25))):  # Simmons
        dk_avg = salaries[(salaries["slate_id"] == slate_id) & (salaries["player_id"] == player_id)]["avg_points"]
        games = logs[(logs["player_id"] == player_id) & (logs["game_date"] < day)]
        tens = (games[["pts", "reb", "ast", "stl", "blk"]] >= 10).sum(axis=1)
        assert (tens >= 3).any(), "the check needs a player with a triple-double before the slate"
        assert games["dk_points"].mean() == pytest.approx(float(dk_avg.iloc[0]), abs=0.005)
        no_stacking = (games["dk_points"] - 1.5 * (tens >= 3)).mean()
        assert abs(no_stacking - float(dk_avg.iloc[0])) > 0.05
