from __future__ import annotations

import datetime as dt

import pytest

from b3lake.errors import EventError
from b3lake.lake.layout import parse_raw_key, raw_key


def test_raw_key_round_trip() -> None:
    key = raw_key("cotahist", dt.date(2021, 1, 4))
    assert key == "raw/cotahist/dt=2021-01-04/part-0.parquet"
    obj = parse_raw_key(key)
    assert (obj.source, obj.dt, obj.name) == ("cotahist", dt.date(2021, 1, 4), "part-0")


@pytest.mark.parametrize(
    "key",
    [
        "raw/../x.parquet",
        "/raw/cotahist/dt=2021-01-04/a.parquet",
        "raw/cotahist/dt=2021-13-45/a.parquet",
        "raw/cotahist/2021-01-04/a.parquet",
        "raw/cotahist/dt=2021-01-04/a.csv",
        "raw/cotahist/dt=2021-01-04/../../refined/x.parquet",
        "refined/quotes/dt=2021-01-04/a.parquet",
    ],
)
def test_hostile_or_foreign_keys_rejected(key: str) -> None:
    with pytest.raises(EventError):
        parse_raw_key(key)
