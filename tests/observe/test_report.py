"""`projections report`: self-contained pages from the real data root; charts degrade gracefully when the slate
lacks columns another stage has not produced yet, and use them when it has them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from projections.observe import plots, report
from tests.observe.conftest import DATES, FAILED_DATE, RERUN_DATE, Observed, cli


@pytest.fixture(scope="module")
def written(observed: Observed) -> Path:
    result = cli(observed.home, observed.code, "report")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "slate page(s)" in result.stdout
    return observed.home / "report"


def test_report_writes_an_index_and_a_page_per_published_date(written: Path):
    names = sorted(p.name for p in written.iterdir())
    assert names == ["index.html", *(f"slate-{d}.html" for d in DATES)]
    index, newest = (written / "index.html").read_text(), (written / f"slate-{DATES[-1]}.html").read_text()
    section = '<section id="slate-section">'
    assert section + index.split(section, 1)[1].split('<section id="status-section">', 1)[0] in newest


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def test_every_link_resolves_to_a_page_of_the_report(written: Path):
    for page in written.iterdir():
        for href in _hrefs(page.read_text()):
            assert href.startswith("data:") or (written / href).is_file(), (page.name, href)


def _overview(days: list[str]) -> report.Overview:
    from projections.observe.status import DateStatus, StageStatus

    statuses = [DateStatus(game_date=d, stages=[StageStatus(game_date=d, stage="gold", state="up to date", reason="",
                                                             object="xxh3-128:" + "ab" * 16, key=None)],
                           gold={"projections": "xxh3-128:" + "cd" * 16}) for d in days]
    return report.Overview(home=Path("/root"), stages=["gold"], statuses=statuses, runs=[], generated="",
                           pages={d: f"slate-{d}.html" for d in days})


def test_a_dates_page_carries_its_own_status_and_neighbours_not_every_dates():
    """Every slate page held every date's nav link and status row: 440 KB a page over a season (59 MB), the report's
    cost growing with the square of its dates. A date's page now carries its own row, the index and the dates
    beside it; the index carries every date's row and link."""
    slate = _full_slate(4).assign(player_name=["D'Angelo Russell", "Nikola Jokić", "Luka Dončić", "<b>A & B</b>"])
    sizes = {}
    for n in (10, 150):
        days = [(dt.date(2019, 10, 22) + dt.timedelta(days=i)).isoformat() for i in range(n)]
        ov = _overview(days)
        focus = report.Focus(day=days[3], asset="projections", object="xxh3-128:" + "cd" * 16, manifest={},
                             slate=slate, actual=None, blocks=[])
        page = report.render_page(ov, focus)
        sizes[n] = len(page)
        assert page.count('<th scope="row">') == 1 and set(_hrefs(page)[1:]) == {
            "index.html", f"slate-{days[2]}.html", f"slate-{days[3]}.html", f"slate-{days[4]}.html"}
        index = report.render_page(ov, focus, index=True)
        assert index.count('<th scope="row">') == n and len(_hrefs(index)) == 1 + 2 * n
        assert "D&#x27;Angelo Russell" in page and "Nikola Jokić" in page and "&lt;b&gt;A &amp; B&lt;/b&gt;" in page
        assert "<b>A" not in page
    assert sizes[150] - sizes[10] == 1  # the count of dates up to date, "150" not "10"


def test_report_files_follow_the_data_root_policy(written: Path):
    """Every file written by rename was created 0644 whatever the policy (664 by default): another member of
    the data root's group could not rewrite a page in place."""
    modes = {p.name: p.stat().st_mode & 0o777 for p in written.iterdir()}
    assert set(modes.values()) == {0o664}, {n: oct(m) for n, m in modes.items()}


def test_pages_of_dates_out_of_the_reports_window_are_removed(observed: Observed, tmp_path: Path):
    """The default report covers the last 31 dates; pages an earlier, wider report wrote stayed, stale, and piled
    up (about 50 MB a season). Only slate pages go: anything else in the folder stays."""
    out = tmp_path / "board"
    wide = cli(observed.home, observed.code, "report", "--out", str(out), DATES[0] + ".." + DATES[-1])
    assert wide.returncode == 0 and (out / f"slate-{DATES[0]}.html").is_file(), wide.stdout + wide.stderr
    (out / "notes.html").write_text("mine")
    narrow = cli(observed.home, observed.code, "report", "--out", str(out), DATES[-1])
    assert narrow.returncode == 0, narrow.stdout + narrow.stderr
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "notes.html", f"slate-{DATES[-1]}.html"]


def test_a_report_of_dates_without_a_slate_does_not_say_none_was_ever_published(observed: Observed,
                                                                                tmp_path: Path):
    """`projections report 2019-11-28` (a date with no slate) in a root that published 2019-10-30 and 10-31 wrote
    "no published slate yet" at the top of its index, as if the root had never published one."""
    out = tmp_path / "board"
    result = cli(observed.home, observed.code, "report", "--out", str(out), FAILED_DATE)
    assert result.returncode == 0 and "0 slate page(s)" in result.stdout, result.stdout + result.stderr
    html = (out / "index.html").read_text()
    assert "no published slate yet" not in html, html
    assert '<nav aria-label="published dates">no published slate among these dates</nav>' in html, html


def test_pages_are_self_contained(written: Path):
    for page in written.iterdir():
        html = page.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), page
        assert "<link rel=\"stylesheet\"" not in html and "<script src" not in html
        assert "@import" not in html and "url(" not in html


def test_the_page_of_the_rerun_date_holds_table_plots_status_runs_and_history(observed: Observed, written: Path):
    html = (written / f"slate-{RERUN_DATE}.html").read_text()
    slate = pd.read_parquet(observed.home / "gold" / "projections" / f"game_date={RERUN_DATE}" / "projections.parquet")
    body = html.split('<table id="slate"', 1)[1].split("</table>", 1)[0]
    assert body.count("<tr>") == len(slate) + 1
    for heading in (">player<", ">salary<", ">proj<", ">actual<"):
        assert heading in body
    assert observed.rerun_gold[9:25] in html
    for section in ("plot-actual", "plot-ownership", "plot-bands", "plot-runs", "status", "runs", "history"):
        assert f'id="{section}"' in html
    assert html.count('<circle class="pt ') > 200  # one dot per player with a box score
    assert re.search(r"\d+ players who played; MAE \d+\.\d+; bias [+-]\d+\.\d+ \(projected - actual\)", html)
    assert "`projections evaluate` leaves out those with no earlier game this season" in html  # why they differ
    if "ownership" in slate.columns:
        assert "Projected ownership by salary" in html and ">own<" in body
    else:
        assert "Projection by salary (no ownership column yet)" in html
    missing = [c for c in ("status", "dk_p10", "dk_p90", "ownership") if c not in slate.columns]
    assert ("not in this slate yet: " + ", ".join(missing) in html) if missing else "not in this slate yet" not in html
    assert "gold/projections -&gt; " in html  # the pointer moves of the history
    index = (written / "index.html").read_text()  # every date's status, the failed one's included
    assert f"slate-{FAILED_DATE}.html" not in index and f"{FAILED_DATE}</th>" in index
    assert 'class="st-F"' in index and "no NBA games on 2019-11-28" in index


def _full_slate(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    mean = rng.uniform(5, 50, n)
    sd = mean * 0.3
    frame = pd.DataFrame({
        "player_id": [f"p{i}" for i in range(n)], "player_name": [f"Player {i}" for i in range(n)],
        "team": ["AAA", "BBB"] * (n // 2), "opp": ["BBB", "AAA"] * (n // 2), "positions": ["PG"] * n,
        "salary": (3000 + (mean * 180).round(-2)).astype("int64"), "status": ["active"] * n,
        "proj_minutes": rng.uniform(10, 36, n), "dk_mean": mean, "dk_sd": sd,
        "ownership": rng.uniform(0, 0.4, n)})
    for col, z in plots._Z.items():
        frame[col] = np.clip(mean + z * sd, 0, None)
    return frame


def test_charts_use_quantiles_and_ownership_when_the_slate_has_them():
    slate = _full_slate()
    actual = pd.DataFrame({"player_id": slate["player_id"][:30], "actual_dk": slate["dk_mean"][:30] + 3.0,
                           "actual_minutes": 30.0})
    svg, stats = plots.projected_vs_actual(plots.with_actuals(slate, actual))
    assert stats["players"] == 30 and stats["bands_approximate"] is False
    assert abs(stats["bias"] + 3.0) < 1e-9  # actuals 3 above: projected too low, as `projections evaluate` signs it
    benched = actual.assign(actual_minutes=[0.0] * 5 + [30.0] * 25)  # five did not play: not counted, as evaluate
    assert plots.projected_vs_actual(plots.with_actuals(slate, benched))[1]["players"] == 25
    assert svg.count("<circle class=\"pt ") == 30
    bands = plots.bands(plots.with_actuals(slate, actual), top=10)
    assert bands.count('class="band-outer"') == 10 and "approx." not in bands
    own = plots.ownership_by_salary(slate)
    assert "Projected ownership by salary" in own and own.count('class="pt own"') == 40


def test_the_ownership_chart_reads_ownership_as_percent():
    """Ownership is in percent already (a slate's sum to 800): small values are not scaled by 100."""
    slate = _full_slate().assign(ownership=[0.05 + 0.01 * i for i in range(40)])
    own = plots.ownership_by_salary(slate)
    assert "Player 0 (AAA): $" in own and ", ownership 0.05%" in own and ", ownership 0.44%" in own
    assert "ownership 5.0" not in own


def test_the_status_grid_says_why_a_date_is_skipped(written: Path):
    html = (written / "index.html").read_text()
    assert re.search(rf'<td class="state-skipped" title="no NBA games on {FAILED_DATE} in the archive&#x27;s '
                     rf'schedule: nothing to build note: run \w+ failed on it [^"]+">skipped</td>', html)


def test_charts_say_what_is_missing_instead_of_failing():
    bare = pd.DataFrame({"player_id": ["a", "b"], "player_name": ["A", "B"], "salary": [3000, 4000]})
    assert "no dk_mean column" in plots.projected_vs_actual(bare)[0]
    assert "no dk_mean column" in plots.bands(bare)
    assert "neither ownership nor dk_mean" in plots.ownership_by_salary(bare)
    some = bare.assign(dk_mean=[10.0, np.nan], dk_sd=[2.0, np.nan])
    assert "no box scores for this date yet" in plots.projected_vs_actual(some)[0]
    bands = plots.bands(some)
    assert "nan" not in bands.lower() and bands.count('class="band-outer"') == 1


def test_actuals_come_from_the_archive(observed: Observed):
    found = plots.actuals(observed.home, dt.date.fromisoformat(RERUN_DATE))
    assert found is not None and len(found) > 200 and list(found.columns) == ["player_id", "actual_dk",
                                                                               "actual_minutes"]
    assert plots.actuals(observed.home, dt.date(2019, 8, 1)) is None


def test_a_root_with_no_gold_still_gets_an_index(tmp_path: Path):
    ov = report.Overview(home=tmp_path, stages=["schedule", "gold"], statuses=[], runs=[], generated="")
    html = report.render_page(ov, None)
    assert "No published slate among these dates." in html and "no runs in the ledger yet" in html


@pytest.mark.parametrize("damage", ["removed", "truncated"])
def test_a_gold_pointer_to_a_missing_or_damaged_object_costs_its_page_not_the_dashboard(built_home: Path,
                                                                                       tmp_path: Path, damage: str):
    """A truncated gold parquet gave an ArrowInvalid traceback (a missing one was handled)."""
    import os
    import shutil
    import stat

    from tests.conftest import FIXTURE_DATE, run_cli

    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    target = (home / "gold" / "projections" / f"game_date={FIXTURE_DATE}").resolve()
    for path in [target, *target.iterdir()]:
        os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)
    if damage == "removed":
        shutil.rmtree(target)
    else:
        os.truncate(target / "projections.parquet", 1000)
    result = run_cli(home, "report")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (home / "report" / "index.html").is_file() and "Traceback" not in result.stderr
    assert f"no page for {FIXTURE_DATE}: the gold pointer names an object that is missing from the store or " \
        "damaged" in result.stderr
    assert not (home / "report" / f"slate-{FIXTURE_DATE}.html").exists()


def test_report_out_refuses_a_directory_it_did_not_write(observed: Observed, tmp_path: Path):
    """`report --out ~/site` overwrote the folder's index.html and deleted its slate-*.html pages: a non-empty
    folder holding no dashboard of the report's own is refused, naming it and the fix, and left as it was."""
    site = tmp_path / "site"
    site.mkdir()
    mine = {"index.html": "<html>my home page</html>", f"slate-{DATES[0]}.html": "<html>my notes</html>",
            "about.html": "about me"}
    for name, text in mine.items():
        (site / name).write_text(text)
    refused = cli(observed.home, observed.code, "report", "--out", str(site))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.startswith(f"error: report --out {site}: that directory holds files the report did not "
                                      "write") and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert "name a new or empty directory, or leave out --out for the default" in refused.stderr
    assert {p.name: p.read_text() for p in site.iterdir()} == mine
    # no index.html, but a slate page of someone else's: refused too
    (site / "index.html").unlink()
    assert cli(observed.home, observed.code, "report", "--out", str(site)).returncode == 2
    assert (site / f"slate-{DATES[0]}.html").read_text() == "<html>my notes</html>"


def test_report_out_writes_into_a_new_an_empty_or_its_own_directory(observed: Observed, tmp_path: Path):
    """An empty folder, one the report wrote (its pages carry a generator tag) and one an older version wrote
    (the same head without the tag) are written as before; a slate page the report did not write stays."""
    empty = tmp_path / "empty"
    empty.mkdir()
    first = cli(observed.home, observed.code, "report", "--out", str(empty), DATES[0] + ".." + DATES[-1])
    assert first.returncode == 0, first.stdout + first.stderr
    index = (empty / "index.html").read_text()
    assert report.GENERATOR in index
    again = cli(observed.home, observed.code, "report", "--out", str(empty), DATES[-1])
    assert again.returncode == 0 and not (empty / f"slate-{DATES[0]}.html").exists(), again.stdout + again.stderr
    # as an older version wrote it: the pages without the tag, and one stale page
    older = tmp_path / "older"
    older.mkdir()
    for name in ("index.html", f"slate-{DATES[0]}.html"):
        (older / name).write_text(index.replace(report.GENERATOR, ""))
    (older / "slate-2001-01-01.html").write_text("<html>a page of mine</html>")
    upgraded = cli(observed.home, observed.code, "report", "--out", str(older), DATES[-1])
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert sorted(p.name for p in older.iterdir()) == ["index.html", "slate-2001-01-01.html", f"slate-{DATES[-1]}.html"]
    assert report.GENERATOR in (older / "index.html").read_text()


def test_the_bands_chart_escapes_names_in_the_actual_scores_tooltip():
    """The actual score's diamond put the player's name into its <title> unescaped (every other mark escaped it):
    "D'Angelo Russell (GSW): actual 48.8" raw; a name with < or & broke the SVG."""
    slate = _full_slate(4).assign(player_name=["D'Angelo Russell", "Nikola Jokić", "<b>A & B</b>", "Luka Dončić"])
    actual = pd.DataFrame({"player_id": slate["player_id"], "actual_dk": 30.0, "actual_minutes": 30.0})
    svg = plots.bands(plots.with_actuals(slate, actual))
    assert "<b>" not in svg and "<title>&lt;b&gt;A &amp; B&lt;/b&gt; (AAA): actual 30.0</title>" in svg
    assert "<title>D&#x27;Angelo Russell (AAA): actual 30.0</title>" in svg and "Nikola Jokić (BBB): actual" in svg
