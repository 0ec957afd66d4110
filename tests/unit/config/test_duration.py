"""Go durations as configs and flags spell them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talos.machinery.duration import format_go_duration, parse_go_duration
from talos.machinery.errors import InvalidArgument


@pytest.mark.parametrize(("text", "seconds"), [
    ("87600h0m0s", 87600 * 3600), ("1h30m", 5400), ("90s", 90), ("500ms", 0.5),
    ("1.5s", 1.5), ("2m0.5s", 120.5), ("0", 0), ("-1m", -60), ("+5s", 5),
    ("1us", 1e-6), ("3µs", 3e-6), ("7ns", 7e-9), (".5h", 1800),
])
def test_parse(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1x", "1 year", "h", "10", "1h 30m", "1m-2s", "--1s"])
def test_bad_values_name_the_field(text: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^machine\.x: invalid duration .* \(expected"):
        parse_go_duration(text, "machine.x")


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (0.4, "0s"), (12.6, "13s"), (63, "1m3s"), (240, "4m0s"), (3605, "1h0m5s"),
    (-3, "0s"),
])
def test_format(seconds: float, text: str) -> None:
    assert format_go_duration(seconds) == text


@given(st.integers(min_value=0, max_value=10**7))
def test_format_then_parse_round_trips(seconds: int) -> None:
    assert parse_go_duration(format_go_duration(seconds)) == seconds
