from __future__ import annotations

import datetime as dt

import pytest

from projections.dates import parse_dates, season_of, slate_date_today
from projections.errors import InvalidDate


def test_single_range_and_list():
    d = dt.date
    assert parse_dates("2019-10-30") == [d(2019, 10, 30)]
    assert parse_dates("2019-10-30..2019-11-01") == [d(2019, 10, 30), d(2019, 10, 31), d(2019, 11, 1)]
    assert parse_dates("2019-11-01, 2019-10-30,2019-10-30") == [d(2019, 10, 30), d(2019, 11, 1)]


@pytest.mark.parametrize("bad", ["2019-13-45", "../../etc", "2019-10-3", "", "2019-11-01..2019-10-30",
                                 "2019-10-30/../x", "today", "2019-02-30"])
def test_bad_dates_name_the_value_and_the_forms(bad):
    with pytest.raises(InvalidDate) as info:
        parse_dates(bad)
    assert "YYYY-MM-DD" in str(info.value) or "ends before" in str(info.value)


def test_today_is_the_eastern_calendar_date():
    late_utc = dt.datetime(2019, 10, 31, 3, 30, tzinfo=dt.UTC)  # 23:30 ET on the 30th
    assert slate_date_today(late_utc) == dt.date(2019, 10, 30)


def test_seasons_including_the_bubble():
    assert season_of(dt.date(2019, 10, 30)) == "2019-20"
    assert season_of(dt.date(2020, 3, 11)) == "2019-20"
    assert season_of(dt.date(2020, 8, 6)) == "2019-20"
    assert season_of(dt.date(2020, 10, 11)) == "2019-20"
    assert season_of(dt.date(2020, 12, 22)) == "2020-21"
    assert season_of(dt.date(2019, 4, 10)) == "2018-19"


def test_a_single_date_error_does_not_offer_ranges():
    from projections.dates import ONE, parse_one

    with pytest.raises(InvalidDate, match=r"expected one date, YYYY-MM-DD") as caught:
        parse_one("2019-11-01..2019-11-02", ONE)
    assert "range" not in str(caught.value)
    with pytest.raises(InvalidDate, match=r"a range A\.\.B"):
        parse_one("2019-11-0x")  # where ranges are accepted (date=), the error lists them


@pytest.mark.parametrize("text", ["0001-01-01", "0999-12-31", "1000-01-01", "9999-12-31"])
def test_a_year_no_slate_can_have_is_refused(text):
    """Year 1 gave an OverflowError traceback in evaluate, year 999 a ValueError in status ('0-01'), and season
    labels such as "999-00"."""
    with pytest.raises(InvalidDate) as info:
        parse_dates(text)
    assert f"invalid date {text!r}: NBA slates fall in the years 1946..2199" in str(info.value)


def test_a_bad_end_of_a_range_is_named_with_its_reason():
    """The range's end is no date (November has 30 days): the error names the end and why, as a single date's
    does - it said only "expected YYYY-MM-DD, a range A..B"."""
    with pytest.raises(InvalidDate) as info:
        parse_dates("2019-10-30..2019-11-31")
    assert str(info.value).startswith("invalid date range '2019-10-30..2019-11-31': date '2019-11-31': day is out "
                                      "of range for month; expected YYYY-MM-DD"), str(info.value)
    with pytest.raises(InvalidDate, match=r"range '1900-01-01\.\.2019-10-30': date '1900-01-01': NBA slates fall"):
        parse_dates("1900-01-01..2019-10-30")
