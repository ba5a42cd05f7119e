"""Property tests of the real SQL value parsers (dbt macros) against the contract's rules.

`dbt_project/analyses/value_parsers.sql` applies every parser macro to a relation
`value_parser_input(v)`. It is compiled once per session by real dbt; each hypothesis
example then runs the compiled SQL in an in-memory DuckDB, so the macros are exercised
exactly as staging renders them, at a few milliseconds per example instead of a dbt run.
Expected values come from independent Python readings of raw-extracts.md, never from the
macros' own patterns.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_analytics.config import Settings
from tests.pipeline import run_dbt

pytestmark = pytest.mark.slow

# Running the compiled SQL costs ~10 ms whatever the number of rows, so each hypothesis
# example is a batch of up to BATCH values checked by one query. 60 examples of up to 25
# values cover every format combination many times, and the file stays well under a minute.
EXAMPLES = settings(max_examples=60, deadline=None)
BATCH = 25


def batches(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Lists of examples; hypothesis still shrinks a failure down to a single value."""
    return st.lists(strategy, min_size=1, max_size=BATCH)


OUTPUTS = (
    "ts_wall",
    "ts_offset",
    "date_value",
    "money_value",
    "integer_value",
    "boolean_value",
    "text_value",
    "phone_digits",
    "email_value",
    "activity_type",
)


@pytest.fixture(scope="session")
def compiled_sql(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("value_parsers")
    # a throwaway instance: its profile points at a DuckDB file under root, never var/
    dbt_settings = Settings(
        landing=root / "landing", warehouse=root / "wh.duckdb", reports_dir=root / "reports"
    )
    run_dbt(dbt_settings, "compile", "--select", "value_parsers")
    (path,) = (dbt_settings.dbt_target_dir / "compiled").rglob("value_parsers.sql")
    return path.read_text(encoding="utf-8")


class Parsers:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.con = duckdb.connect()
        self.con.execute("create temp table value_parser_input (v varchar)")

    def parse_many(self, values: list[str | None]) -> dict[str | None, dict[str, Any]]:
        """Parser outputs by input value (the parsers are deterministic)."""
        self.con.execute("delete from value_parser_input")
        self.con.execute(
            "insert into value_parser_input select unnest(?::varchar[])", [list(values)]
        )
        cursor = self.con.execute(self.sql)
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        assert len(rows) == len(values)
        assert set(OUTPUTS) <= set(names)
        return {row["landed_v"]: row for row in rows}

    def parse(self, value: str | None) -> dict[str, Any]:
        return self.parse_many([value])[value]


@pytest.fixture(scope="session")
def parsers(compiled_sql) -> Iterator[Parsers]:
    instance = Parsers(compiled_sql)
    yield instance
    instance.con.close()


# --- independent readings of the contract -----------------------------------------------------

# "text: trimmed". The characters trimmed are the ones the project documents (space, tab, line
# breaks, no-break spaces); the generators below only put these around values.
TRIMMED = " \t\n\r\u00a0\u202f\u2007"


def trim(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip(TRIMMED) or None


def phone_rule(text: str | None) -> str | None:
    """Keep the digits; 11 starting with 8 -> 7...; 10 -> prefix 7; valid = 11..15 digits."""
    digits = "".join(ch for ch in text or "" if ch in string.digits)
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    elif len(digits) == 10:
        digits = "7" + digits
    return digits if 11 <= len(digits) <= 15 else None


def email_rule(text: str | None) -> str | None:
    """Trimmed, lower-cased; one @ with text on both sides and a dot in the domain."""
    email = trim(text)
    if email is None:
        return None
    email = email.lower()
    if email.count("@") != 1:
        return None
    local, domain = email.split("@")
    return email if local and domain and "." in domain else None


def activity_type_rule(text: str | None) -> str | None:
    """Lower-case; each run of non-letters/digits becomes _, leading/trailing _ dropped."""
    cleaned = trim(text)
    if cleaned is None:
        return None
    mapped = "".join(ch if ch.isalnum() else "_" for ch in cleaned.lower())
    return re.sub("_+", "_", mapped).strip("_")


BOOLEAN_WORDS = {
    "true": True,
    "1": True,
    "yes": True,
    "y": True,
    "да": True,
    "false": False,
    "0": False,
    "no": False,
    "n": False,
    "нет": False,
}


# --- strategies -----------------------------------------------------------------------------

# 4-digit years only: the formats are YYYY / DD.MM.YYYY
datetimes = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59))
padding = st.text(alphabet=TRIMMED, max_size=3)


def offset_spellings(minutes_east: int) -> list[tuple[str, int | None]]:
    """(offset text, minutes east of UTC) in every accepted spelling, and no offset at all."""
    sign = "-" if minutes_east < 0 else "+"
    hours, minutes = divmod(abs(minutes_east), 60)
    spellings: list[tuple[str, int | None]] = [
        ("", None),
        (f"{sign}{hours:02d}:{minutes:02d}", minutes_east),
        (f"{sign}{hours:02d}{minutes:02d}", minutes_east),
    ]
    if minutes_east == 0:
        spellings += [("Z", 0), ("-00:00", 0)]
    return spellings


def timestamp_forms(
    moment: datetime, minutes_east: int, pad: str
) -> list[tuple[str, datetime, int | None]]:
    """(text, wall time it denotes, offset minutes) for one moment in every accepted form."""
    day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    ru_day = f"{moment.day:02d}.{moment.month:02d}.{moment.year:04d}"
    hh_mm = f"{moment.hour:02d}:{moment.minute:02d}"
    ss = f"{moment.second:02d}"
    to_minute = moment.replace(second=0, microsecond=0)
    to_second = moment.replace(microsecond=0)
    times = [(hh_mm, to_minute), (f"{hh_mm}:{ss}", to_second)]
    for digits in range(1, 7):
        # keep only what `digits` fraction digits can say, so the text is exact
        micro = moment.microsecond - moment.microsecond % 10 ** (6 - digits)
        fraction = f"{micro:06d}"[:digits]
        times.append((f"{hh_mm}:{ss}.{fraction}", moment.replace(microsecond=micro)))
    forms = [(f"{ru_day} {hh_mm}", to_minute, None), (f"{ru_day} {hh_mm}:{ss}", to_second, None)]
    for separator in "T ":
        for time, wall in times:
            for offset, minutes in offset_spellings(minutes_east):
                forms.append((f"{day}{separator}{time}{offset}", wall, minutes))
    return [(pad + text + pad, wall, minutes) for text, wall, minutes in forms]


# offsets of -23:59..+23:59, zero often enough to see Z
offsets = st.one_of(st.just(0), st.integers(-(23 * 60 + 59), 23 * 60 + 59))


def days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


@st.composite
def impossible_dates(draw) -> tuple[int, int, int]:
    """(year, month, day) with the right digit counts but no such calendar day."""
    year = draw(st.integers(1, 9999))
    kind = draw(st.sampled_from(["day", "month 0", "month 13+", "day 0"]))
    if kind == "month 0":
        return year, 0, draw(st.integers(1, 28))
    if kind == "month 13+":
        return year, draw(st.integers(13, 99)), draw(st.integers(1, 28))
    month = draw(st.integers(1, 12))
    if kind == "day 0":
        return year, month, 0
    return year, month, draw(st.integers(days_in_month(year, month) + 1, 99))


# --- timestamps -------------------------------------------------------------------------------


@st.composite
def padded(draw, strategy: st.SearchStrategy) -> tuple[str, Any]:
    """(text with trimmable characters around it, what the bare text should parse to)."""
    text, *expected = draw(strategy)
    return draw(padding) + text + draw(padding), *expected


# Each example: up to 8 moments, each in all of its ~60 spellings, in one query.
@EXAMPLES
@given(st.lists(st.tuples(datetimes, offsets, padding), min_size=1, max_size=8))
def test_every_accepted_timestamp_form_parses_to_its_wall_time_and_offset(parsers, moments):
    cases = [form for moment in moments for form in timestamp_forms(*moment)]
    parsed = parsers.parse_many([text for text, _, _ in cases])
    for text, wall, minutes in cases:
        assert (parsed[text]["ts_wall"], parsed[text]["ts_offset"]) == (wall, minutes), text
        if trim(text)[4] == "-":  # ISO: the portable form reads the same wall clock
            assert parsed[text]["ts_wall_iso_portable"] == wall, text


@st.composite
def invalid_timestamp_texts(draw) -> str:
    moment = draw(datetimes)
    day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    ru_day = f"{moment.day:02d}.{moment.month:02d}.{moment.year:04d}"
    hh_mm = f"{moment.hour:02d}:{moment.minute:02d}"
    return draw(
        st.sampled_from(
            [
                day,  # a date alone is not a timestamp
                ru_day,
                f"{day} {hh_mm}+{moment.hour:02d}",  # an offset needs its minutes
                f"{day}T{hh_mm}z",  # only an upper-case Z means UTC
                f"{day}t{hh_mm}",  # the separator is T or a space
                f"{ru_day}T{hh_mm}",  # DD.MM.YYYY takes a space, no offset, no fraction
                f"{ru_day} {hh_mm}+03:00",
                f"{ru_day} {hh_mm}:00.5",
                f"{day} {hh_mm}:00.1234567",  # at most 6 fraction digits
                f"{day} {moment.hour % 10}:{moment.minute:02d}",  # two-digit hours
                f"{day} 24:00",
                f"{day} {moment.hour:02d}:60",
                f"{day} {hh_mm}:60",
                f"{day} {hh_mm}+24:00",
            ]
        )
    )


@EXAMPLES
@given(batches(invalid_timestamp_texts()))
def test_invalid_timestamp_forms_never_parse(parsers, texts):
    parsed = parsers.parse_many(texts)
    for text in texts:
        assert (parsed[text]["ts_wall"], parsed[text]["ts_offset"]) == (None, None), text


@st.composite
def impossible_day_texts(draw) -> tuple[str, str]:
    """(a timestamp, a date) on a day that does not exist, in either day form."""
    year, month, day = draw(impossible_dates())
    if draw(st.booleans()):
        day_text = f"{day:02d}.{month:02d}.{year:04d}"
    else:
        day_text = f"{year:04d}-{month:02d}-{day:02d}"
    time = f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
    return f"{day_text} {time}", day_text


@EXAMPLES
@given(batches(impossible_day_texts()))
def test_impossible_dates_never_parse(parsers, cases):
    parsed = parsers.parse_many([text for case in cases for text in case])
    for timestamp, day in cases:
        assert parsed[timestamp]["ts_wall"] is None, timestamp
        assert parsed[day]["date_value"] is None, day


# --- dates ------------------------------------------------------------------------------------


@st.composite
def date_texts(draw) -> tuple[str, date]:
    day = draw(st.dates(min_value=date(1, 1, 1)))
    if draw(st.booleans()):
        return f"{day.day:02d}.{day.month:02d}.{day.year:04d}", day
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}", day


@EXAMPLES
@given(batches(padded(date_texts())))
def test_dates_parse_in_both_forms(parsers, cases):
    parsed = parsers.parse_many([text for text, _ in cases])
    for text, day in cases:
        assert parsed[text]["date_value"] == day, text


# --- money ------------------------------------------------------------------------------------

SPACES = " \u00a0\u202f"  # a space, a no-break space, a narrow no-break space


@st.composite
def money_texts(draw) -> tuple[str, Decimal]:
    places = draw(st.integers(0, 12))
    value = draw(st.decimals(min_value=-(10**15), max_value=10**15, places=places, allow_nan=False))
    text = format(value, "f").replace(".", draw(st.sampled_from(".,")))
    # spaces of any kind anywhere, also between the sign and the digits
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(SPACES)) + text[at:]
    return text, value


@EXAMPLES
@given(batches(money_texts()))
def test_money_parses_exactly_with_either_mark_and_any_spaces(parsers, cases):
    parsed = parsers.parse_many([text for text, _ in cases])
    for text, value in cases:
        money = parsed[text]["money_value"]
        assert money is not None, text
        assert money == value, text


@EXAMPLES
@given(batches(money_texts().map(lambda case: "+" + case[0].lstrip(SPACES + "-"))))
def test_money_with_a_leading_plus_never_parses(parsers, texts):
    parsed = parsers.parse_many(texts)
    for text in texts:
        assert parsed[text]["money_value"] is None, text


# --- integers ---------------------------------------------------------------------------------

# 18 digits: beyond that the parser's pattern stops (the columns are bigint)
integers = st.integers(-(10**18) + 1, 10**18 - 1)


@EXAMPLES
@given(batches(padded(integers.map(lambda n: (str(n), n)))))
def test_integers_round_trip(parsers, cases):
    parsed = parsers.parse_many([text for text, _ in cases])
    for text, number in cases:
        assert parsed[text]["integer_value"] == number, text


@EXAMPLES
@given(
    batches(
        st.one_of(
            # `3.0` as text is invalid: only an xlsx number cell with no fraction is integer
            st.tuples(integers, st.sampled_from([".0", ".00", ",0", ".5", "e0"])).map(
                lambda p: f"{p[0]}{p[1]}"
            ),
            # digits with an optional `-`: a `+` is not part of it
            integers.map(lambda n: f"+{abs(n)}"),
        )
    )
)
def test_integer_text_with_a_fraction_or_plus_never_parses(parsers, texts):
    parsed = parsers.parse_many(texts)
    for text in texts:
        assert parsed[text]["integer_value"] is None, text


# --- booleans ---------------------------------------------------------------------------------


@st.composite
def boolean_texts(draw) -> tuple[str, bool]:
    word = draw(st.sampled_from(sorted(BOOLEAN_WORDS)))
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    text = "".join(ch.upper() if up else ch for ch, up in zip(word, flips, strict=True))
    return text, BOOLEAN_WORDS[word]


@EXAMPLES
@given(batches(padded(boolean_texts())))
def test_boolean_words_in_any_case(parsers, cases):
    parsed = parsers.parse_many([text for text, _ in cases])
    for text, value in cases:
        assert parsed[text]["boolean_value"] is value, text


@EXAMPLES
@given(batches(st.text(alphabet="truefalsyenoдатне01 TRUEFALSYENOДАТНЕ2\t", max_size=6)))
def test_boolean_is_null_unless_an_accepted_word(parsers, texts):
    parsed = parsers.parse_many(texts)
    for text in texts:
        expected = BOOLEAN_WORDS.get((trim(text) or "").lower())
        assert parsed[text]["boolean_value"] is expected, text


# --- text, phones, emails, activity types -----------------------------------------------------


@EXAMPLES
@given(batches(st.tuples(padding, st.text(max_size=20), padding).map("".join)))
def test_text_is_trimmed_and_empty_is_null(parsers, texts):
    parsed = parsers.parse_many(texts)
    for text in texts:
        assert parsed[text]["text_value"] == trim(text), text


phone_texts = st.one_of(
    st.text(alphabet=string.digits + " +-().\t", max_size=24),
    # formatted numbers around the interesting lengths: 10, 11 and 15/16 digits
    st.tuples(
        st.sampled_from(["", "+", "8 ", "+7 ", "7"]),
        st.text(alphabet=string.digits, min_size=8, max_size=16),
        st.sampled_from(["", " ", "-", "(", ")", " ext. "]),
    ).map(lambda p: p[0] + p[2].join(p[1][i : i + 3] for i in range(0, len(p[1]), 3))),
)


@EXAMPLES
@given(batches(phone_texts))
def test_phone_normalisation_follows_the_contract_rule(parsers, texts):
    parsed = parsers.parse_many(texts)
    for text in texts:
        assert parsed[text]["phone_digits"] == phone_rule(text), text


email_texts = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "@.-_+ \tАяЁ\n", max_size=16),
    st.tuples(
        padding,
        st.text(alphabet="aB.@_- ", max_size=5),
        st.sampled_from(["@", "@@", ""]),
        st.text(alphabet="xY.@- ", max_size=5),
        padding,
    ).map("".join),
)


@EXAMPLES
@given(batches(email_texts))
def test_email_validity_follows_the_contract_rule(parsers, texts):
    parsed = parsers.parse_many(texts)
    for text in texts:
        assert parsed[text]["email_value"] == email_rule(text), text


# Characters whose lower case is one character: a multi-character lower case (`İ`) and the
# context-dependent final sigma are case-mapping details the contract does not speak about.
activity_chars = st.characters(categories=["L", "N", "P", "S", "Zs", "M"]).filter(
    lambda ch: len(ch.lower()) == 1 and ch not in "Σς"
)
activity_texts = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + " _-/.&!", max_size=20),
    st.text(alphabet=activity_chars, max_size=12),
)


@EXAMPLES
@given(batches(st.tuples(padding, activity_texts, padding).map("".join)))
def test_activity_type_normalisation_follows_the_contract_rule(parsers, texts):
    parsed = parsers.parse_many(texts)
    for text in texts:
        assert parsed[text]["activity_type"] == activity_type_rule(text), text


def test_activity_type_examples_from_the_contract(parsers):
    parsed = parsers.parse_many(["Message", "AI activity", "  Звонок / SMS__follow-up!  "])
    assert parsed["Message"]["activity_type"] == "message"
    assert parsed["AI activity"]["activity_type"] == "ai_activity"
    assert parsed["  Звонок / SMS__follow-up!  "]["activity_type"] == "звонок_sms_follow_up"


# --- robustness -------------------------------------------------------------------------------


@EXAMPLES
@given(batches(st.text(max_size=40)))
def test_arbitrary_text_never_makes_a_parser_raise(parsers, texts):
    # A parser error aborts the whole dbt build, not one row: for any landed text every output
    # must be a value or null. Parsing one by one as well shows rows do not interact.
    together = parsers.parse_many(texts)
    assert parsers.parse(texts[0]) == together[texts[0]]


def test_null_parses_to_null_everywhere(parsers):
    assert all(value is None for value in parsers.parse(None).values())


def test_the_analysis_renders_the_staging_macros():
    # a copy of the macros' SQL would test nothing: the analysis must call them
    source = Path(__file__).parents[1] / "dbt_project/analyses/value_parsers.sql"
    text = source.read_text(encoding="utf-8")
    for macro in (
        "parse_timestamp_wall",
        "parse_timestamp_offset_minutes",
        "parse_date",
        "parse_money",
        "parse_integer",
        "parse_boolean",
        "clean_text",
        "normalize_phone",
        "normalize_email",
        "normalize_activity_type",
    ):
        assert "{{ " + macro + "(" in text, macro
