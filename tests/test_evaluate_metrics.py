"""The arithmetic `projections evaluate` reports (issue 9's bars are read from it), checked against the same
figures worked out here by hand on small tables: MAE, RMSE, bias, band coverage (bounds inclusive), the change
against the baseline with its date-clustered standard error, and the last-10 baseline itself."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from projections.archive import SHIPPED
from projections.dates import season_of
from projections.evaluate import _box_scores, _metrics
from projections.evaluate_baseline import baseline

D1, D2, D3 = dt.date(2019, 11, 5), dt.date(2019, 11, 6), dt.date(2019, 11, 7)
# per row: date, minutes (proj, actual, baseline), DK (mean, actual, baseline), band p10, p25, p75, p90, p50
ROWS = [
    (D1, 30.0, 32.0, 28.0, 30.0, 35.0, 25.0, 20.0, 25.0, 35.0, 40.0, 29.0),  # inside both bands (p75 exactly)
    (D1, 10.0, 4.0, 12.0, 12.0, 2.0, 14.0, 5.0, 9.0, 15.0, 20.0, 11.0),  # below p10
    (D2, 24.0, 25.0, 20.0, 22.0, 40.0, 18.0, 12.0, 17.0, 27.0, 40.0, 21.0),  # on p90 exactly: inside, above p75
    (D2, 36.0, 30.0, 33.0, 45.0, 44.0, 40.0, 30.0, 38.0, 52.0, 60.0, 44.0),
    (D3, 18.0, 18.0, 22.0, 15.0, 9.0, 16.0, 6.0, 10.0, 20.0, 25.0, 14.0),
]


def _frame() -> pd.DataFrame:
    cols = ["game_date", "proj_minutes", "minutes", "baseline_minutes", "dk_mean", "dk_points", "baseline_dk",
            "dk_p10", "dk_p25", "dk_p75", "dk_p90", "dk_p50"]
    return pd.DataFrame(ROWS, columns=cols)


def _by_hand(model: list[float], base: list[float], dates: list[dt.date]) -> tuple[float, float]:
    """Mean of |model| - |base| and its standard error clustered by date: sqrt(G/(G-1) sum_g s_g^2) / n, where
    s_g sums the rows' deviations from the mean within date g."""
    diffs = [abs(m) - abs(b) for m, b in zip(model, base, strict=True)]
    mean = sum(diffs) / len(diffs)
    sums: dict[dt.date, float] = {}
    for day, d in zip(dates, diffs, strict=True):
        sums[day] = sums.get(day, 0.0) + (d - mean)
    g = len(sums)
    return mean, math.sqrt(g / (g - 1) * sum(s * s for s in sums.values())) / len(diffs)


def test_every_figure_matches_the_same_figure_worked_out_by_hand():
    got = _metrics(_frame())
    dates = [r[0] for r in ROWS]
    e_min = [r[1] - r[2] for r in ROWS]
    b_min = [r[3] - r[2] for r in ROWS]
    e_dk = [r[4] - r[5] for r in ROWS]
    b_dk = [r[6] - r[5] for r in ROWS]
    n = len(ROWS)
    assert got["players"] == n and got["n_dates"] == 3
    assert got["minutes_mae"] == pytest.approx(sum(map(abs, e_min)) / n)  # (2 + 6 + 1 + 6 + 0) / 5 = 3
    assert got["minutes_mae"] == pytest.approx(3.0)
    assert got["baseline_minutes_mae"] == pytest.approx(sum(map(abs, b_min)) / n)
    assert got["dk_mae"] == pytest.approx(sum(map(abs, e_dk)) / n)
    assert got["baseline_dk_mae"] == pytest.approx(sum(map(abs, b_dk)) / n)
    assert got["dk_rmse"] == pytest.approx(math.sqrt(sum(e * e for e in e_dk) / n))
    assert got["minutes_rmse"] == pytest.approx(math.sqrt(sum(e * e for e in e_min) / n))
    assert got["dk_bias"] == pytest.approx(sum(e_dk) / n)  # projection - actual: negative here (too low)
    assert got["dk_bias"] < 0 and got["baseline_dk_bias"] == pytest.approx(sum(b_dk) / n)
    assert got["minutes_bias"] == pytest.approx(sum(e_min) / n)
    assert got["dk_p50_mae"] == pytest.approx(sum(abs(r[11] - r[5]) for r in ROWS) / n)
    inside_80 = [r[7] <= r[5] <= r[10] for r in ROWS]
    inside_50 = [r[8] <= r[5] <= r[9] for r in ROWS]
    assert inside_80 == [True, False, True, True, True] and inside_50 == [True, False, False, True, False]
    assert got["coverage_p10_p90"] == pytest.approx(0.8) and got["coverage_p25_p75"] == pytest.approx(0.4)
    for prefix, model, base in (("dk", e_dk, b_dk), ("minutes", e_min, b_min)):
        change, se = _by_hand(model, base, dates)
        assert got[f"{prefix}_mae_change"] == pytest.approx(change), prefix
        assert got[f"{prefix}_mae_change_se"] == pytest.approx(se), prefix
        assert got[f"{prefix}_mae_change_pct"] == pytest.approx(100 * change / (sum(map(abs, base)) / n)), prefix


def test_the_standard_error_is_clustered_by_date_not_by_row():
    """Two rows of one date that err together count as one piece of evidence: moving a row to its own date
    changes the SE (a per-row SE would not move)."""
    frame = _frame()
    apart = frame.assign(game_date=[D1, D2, D3, dt.date(2019, 11, 8), dt.date(2019, 11, 9)])
    assert _metrics(frame)["dk_mae_change"] == pytest.approx(_metrics(apart)["dk_mae_change"])
    assert _metrics(frame)["dk_mae_change_se"] != pytest.approx(_metrics(apart)["dk_mae_change_se"])
    one = _metrics(frame[frame["game_date"] == D1])
    assert math.isnan(one["dk_mae_change_se"])  # one date: no clustered SE


def test_the_baseline_is_the_last_ten_games_of_the_season_strictly_before_the_date():
    def game(player: str, day: dt.date, minutes: float, dk: float, season: str = "2019-20") -> dict:
        return {"player_id": player, "game_date": day, "minutes": minutes, "dk_points": dk, "season": season}

    start = dt.date(2019, 10, 22)
    logs = [game("a", start + dt.timedelta(days=i), 10.0 + i, 20.0 + 2 * i) for i in range(12)]  # 12 games
    logs.append(game("a", dt.date(2019, 11, 5), 99.0, 99.0))  # the date itself: never its own baseline
    logs.append(game("a", dt.date(2019, 4, 10), 1.0, 1.0, "2018-19"))  # another season: never in it
    logs.append(game("b", dt.date(2019, 4, 10), 30.0, 40.0, "2018-19"))  # no game this season: no baseline
    logs.append(game("c", dt.date(2019, 11, 1), 12.0, 15.0))  # one game: his baseline is that game
    got = baseline(pd.DataFrame(logs), [dt.date(2019, 11, 5)]).set_index("player_id")
    assert sorted(got.index) == ["a", "c"]
    last_ten = range(2, 12)  # games 3..12 of a's 12
    assert got.loc["a", "baseline_minutes"] == pytest.approx(sum(10.0 + i for i in last_ten) / 10)
    assert got.loc["a", "baseline_dk"] == pytest.approx(sum(20.0 + 2 * i for i in last_ten) / 10)
    assert (got.loc["c", "baseline_minutes"], got.loc["c", "baseline_dk"]) == (12.0, 15.0)


def test_the_error_had_the_minutes_been_right_uses_points_per_projected_minute_times_real_minutes():
    """dk_mae_at_real_minutes: each row's projected DK points per projected minute times the minutes he played;
    a row projected for 0 minutes (ruled out, yet he played) has no rate and stays out of it. The baseline's is
    its last-10 points per last-10 minute."""
    frame = _frame()
    by_hand = [abs(r[4] / r[1] * r[2] - r[5]) for r in ROWS]  # e.g. row 1: 30 / 30 x 32 = 32 vs 35 -> 3
    base = [abs(r[6] / r[3] * r[2] - r[5]) for r in ROWS]
    got = _metrics(frame)
    assert got["dk_mae_at_real_minutes"] == pytest.approx(sum(by_hand) / len(ROWS))
    assert got["baseline_dk_mae_at_real_minutes"] == pytest.approx(sum(base) / len(ROWS))
    ruled_out = pd.concat([frame, frame.iloc[[0]].assign(proj_minutes=0.0, dk_mean=0.0)], ignore_index=True)
    again = _metrics(ruled_out)
    assert again["dk_mae_at_real_minutes"] == pytest.approx(got["dk_mae_at_real_minutes"])
    assert again["dk_mae"] != pytest.approx(got["dk_mae"])  # the row itself is evaluated everywhere else


def test_the_box_scores_keep_numeric_columns_without_live_captures(tmp_path):
    """No capture under the root: its empty frame must not make minutes and DK points objects (each baseline
    mean was then a Python loop per player: a season's evaluate took 19 s instead of 4)."""
    logs = _box_scores(tmp_path, tmp_path, {"2019-20"}, SHIPPED)
    assert len(logs) > 20000
    assert logs["minutes"].dtype == "float64" and logs["dk_points"].dtype == "float64"


def test_the_baseline_of_many_dates_is_each_dates_own_computation_to_the_bit(tmp_path):
    """The baseline finds every (date, player) window at once instead of filtering the game logs again for each
    date (a season: 21 s -> 1 s here); on the real 2018-19 and 2019-20 box scores it must give what each date's own
    filter and groupby give, the same players in the same order with bit-identical means."""
    logs = _box_scores(tmp_path, tmp_path, {"2018-19", "2019-20"}, SHIPPED)
    days = [dt.date(2018, 10, 16), dt.date(2018, 10, 17), dt.date(2019, 4, 10), dt.date(2019, 10, 22),
            dt.date(2019, 10, 23), dt.date(2019, 11, 5), dt.date(2019, 12, 25), dt.date(2020, 3, 11)]
    expected = []
    ordered = logs.sort_values(["player_id", "game_date"])
    for day in days:
        season = ordered[(ordered["season"] == season_of(day)) & (ordered["game_date"] < day)]
        mean = season.groupby("player_id").tail(10).groupby("player_id")[["minutes", "dk_points"]].mean()
        expected.append(mean.rename(columns={"minutes": "baseline_minutes", "dk_points": "baseline_dk"})
                        .reset_index().assign(game_date=day))
    want = pd.concat(expected, ignore_index=True)
    got = baseline(logs, days)
    assert len(got) > 2000 and got["game_date"].nunique() == len(days) - 2, got["game_date"].value_counts()
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_an_actual_on_a_lower_band_edge_is_inside_the_band():
    """Bounds are inclusive at both ends: an actual equal to p10 (or p25) is inside, as one equal to p90 (p75) is."""
    frame = _frame().iloc[[0]].assign(dk_points=[20.0], dk_p25=[20.0])  # on p10 and on p25 at once
    got = _metrics(frame)
    assert (got["coverage_p10_p90"], got["coverage_p25_p75"]) == (1.0, 1.0)
    below = _metrics(frame.assign(dk_points=[19.99]))
    assert (below["coverage_p10_p90"], below["coverage_p25_p75"]) == (0.0, 0.0)


def test_the_error_had_the_minutes_been_right_is_none_when_no_row_was_projected_to_play():
    """Only players ruled out (0 projected minutes) who played anyway: no rate to scale, so no figure - not NaN,
    which the JSON would print as null only by accident and the table as "nan"."""
    got = _metrics(_frame().assign(proj_minutes=0.0, dk_mean=0.0))
    assert got["dk_mae_at_real_minutes"] is None
    assert got["baseline_dk_mae_at_real_minutes"] is not None
