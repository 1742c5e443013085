from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binome_notifications.domain.dates import format_clock_time, format_day, format_moment
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

THURSDAY_2PM_PARIS = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


def test_french_moment_reads_like_the_product_brief() -> None:
    assert (
        format_moment(THURSDAY_2PM_PARIS, language=Language.FR, time_zone="Europe/Paris")
        == "jeudi 3 décembre 2026 à 14 h 00 (Europe/Paris)"
    )


def test_english_moment_reads_like_the_product_brief() -> None:
    assert (
        format_moment(THURSDAY_2PM_PARIS, language=Language.EN, time_zone="Europe/Paris")
        == "Thursday 3 December 2026, 2:00 PM (Europe/Paris)"
    )


def test_the_same_instant_is_shown_on_the_readers_own_clock() -> None:
    assert (
        format_moment(THURSDAY_2PM_PARIS, language=Language.EN, time_zone="America/New_York")
        == "Thursday 3 December 2026, 8:00 AM (America/New_York)"
    )
    assert (
        format_moment(THURSDAY_2PM_PARIS, language=Language.FR, time_zone="Asia/Tokyo")
        == "jeudi 3 décembre 2026 à 22 h 00 (Asia/Tokyo)"
    )


def test_summer_time_is_applied() -> None:
    july_noon_utc = datetime(2026, 7, 9, 12, 5, tzinfo=UTC)
    assert (
        format_moment(july_noon_utc, language=Language.FR, time_zone="Europe/Paris")
        == "jeudi 9 juillet 2026 à 14 h 05 (Europe/Paris)"
    )


def test_a_time_zone_change_can_move_the_date() -> None:
    late_evening_utc = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert format_moment(
        late_evening_utc, language=Language.FR, time_zone="Europe/Paris"
    ).startswith("vendredi 1er janvier 2027 à 0 h 30")


def test_french_first_of_month_is_written_1er() -> None:
    assert format_day(date(2026, 12, 1), Language.FR) == "mardi 1er décembre 2026"
    assert format_day(date(2026, 12, 1), Language.EN) == "Tuesday 1 December 2026"


@pytest.mark.parametrize(
    ("hour", "minute", "english", "french"),
    [
        (0, 0, "12:00 AM", "0 h 00"),
        (0, 15, "12:15 AM", "0 h 15"),
        (11, 59, "11:59 AM", "11 h 59"),
        (12, 0, "12:00 PM", "12 h 00"),
        (13, 7, "1:07 PM", "13 h 07"),
        (23, 30, "11:30 PM", "23 h 30"),
    ],
)
def test_clock_times(hour: int, minute: int, english: str, french: str) -> None:
    moment = datetime(2026, 3, 4, hour, minute, tzinfo=UTC)
    assert format_clock_time(moment, Language.EN) == english
    assert format_clock_time(moment, Language.FR) == french


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_moment(datetime(2026, 1, 1, 9), language=Language.FR, time_zone="Europe/Paris")


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(timezone(timedelta(hours=3))),
    )
)
def test_any_instant_shows_its_local_date_and_year(moment: datetime) -> None:
    local = moment.astimezone(timezone(timedelta(hours=3)))
    french = format_moment(moment, language=Language.FR, time_zone="Europe/Moscow")
    english = format_moment(moment, language=Language.EN, time_zone="Europe/Moscow")
    # Moscow has been UTC+3 all year since 2014; before that the offset differed.
    if moment >= datetime(2015, 1, 1, tzinfo=UTC):
        day = "1er" if local.day == 1 else str(local.day)
        assert f" {day} " in french
        assert f" {local.day} " in english
        assert str(local.year) in french
        assert f"{local.hour} h {local.minute:02d}" in french
