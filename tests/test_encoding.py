"""Prisma's stored forms: written exactly, every form read back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from learnlab.db.encoding import (JSON_NULL, decode_json, encode_json, format_datetime, new_cuid, new_ulid,
                                  parse_datetime, ulid_time)

T = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)


def test_writes_the_adapters_forms():
    assert format_datetime(T) == "2024-01-02T03:04:05.678+00:00"
    assert format_datetime(T, "unixepoch-ms") == 1704164645678
    assert format_datetime(datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc), "unixepoch-ms") == -1
    assert format_datetime(T.astimezone(timezone(timedelta(hours=5)))) == "2024-01-02T03:04:05.678+00:00"
    assert format_datetime(T.replace(microsecond=678999)) == "2024-01-02T03:04:05.678+00:00"  # ms, as JS Dates


@pytest.mark.parametrize("raw", ["2024-01-02T03:04:05.678+00:00", "2024-01-02T03:04:05.678Z",
                                 "2024-01-02T04:04:05.678+01:00", 1704164645678, 1704164645678.0, "1704164645678"])
def test_reads_every_form(raw):
    assert parse_datetime(raw) == T


def test_reads_the_current_timestamp_form_as_utc():
    assert parse_datetime("2024-01-02 03:04:05") == T.replace(microsecond=0)


@pytest.mark.parametrize("raw", ["yesterday", b"\x00", float("nan"), True])
def test_rejects_what_is_no_timestamp(raw):
    with pytest.raises(ValueError, match="not a timestamp"):
        parse_datetime(raw)


def test_json_forms():
    assert encode_json({"b": [1, 2], "a": "é"}) == '{"b":[1,2],"a":"é"}'
    assert (encode_json(None), encode_json(JSON_NULL), encode_json(3), encode_json("s")) == (None, "null", 3, '"s"')
    assert (decode_json("null"), decode_json(3.5), decode_json('"s"'), decode_json(None)) == (JSON_NULL, 3.5, "s", None)


def test_ids():
    u = new_ulid(T)
    assert len(u) == 26 and ulid_time(u) == T and u < new_ulid(T + timedelta(milliseconds=1))
    c = new_cuid()
    assert len(c) == 25 and c.startswith("c")


@pytest.mark.parametrize("value, text", [(1.0, "1"), (1e-05, "0.00001"), (1e-7, "1e-7"), (1e16, "10000000000000000"),
                                         (1e21, "1e+21"), (-2.5, "-2.5"), (0.1, "0.1"), (1.5e-7, "1.5e-7"),
                                         (12345678901234567890.0, "12345678901234567000"), (7, "7")])
def test_json_numbers_are_spelt_as_javascript_does(value, text):
    from learnlab.db.encoding import js_number

    assert js_number(value) == text


def test_years_before_1000_are_zero_padded():
    early = datetime(1, 1, 1, tzinfo=timezone.utc)
    assert format_datetime(early) == "0001-01-01T00:00:00.000+00:00"
    assert parse_datetime(format_datetime(early)) == early
