"""The source registry: one declaration per source, and a toy source landed through it alone."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from b3lake.errors import ConfigError, SourceError
from b3lake.sources import registry
from b3lake.sources.base import Fetched, Param, Request, Source, split_by_date


def test_builtin_sources_are_registered_once_with_their_raw_prefixes() -> None:
    assert registry.names()[:4] == ("cotahist", "ibov", "yfinance", "corporate_actions")
    assert registry.raw_names()[:4] == (
        "cotahist",
        "ibov_portfolio",
        "yfinance",
        "corporate_actions",
    )
    for source in registry.all_sources():
        assert isinstance(source, Source)
        assert registry.get(source.name) is registry.get(source.raw) is source


def test_unknown_source_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known: cotahist, ibov, yfinance, corporate_actions"):
        registry.get("bloomberg")


def test_reading_the_registry_imports_no_heavy_library() -> None:
    code = (
        "import sys; from b3lake.sources import registry; registry.all_sources(); "
        "print([m for m in ('pyarrow', 'numpy', 'pandas', 'requests') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------- a toy source, end to end


class ToySource:
    """A whole source in one class: ``name;YYYY-MM-DD;value`` lines."""

    name = "toy"
    raw = "toy_values"
    summary = "Land toy values in raw/toy_values/dt=…/."
    example = "b3lake extract toy --file values.txt"
    file_help = "name;date;value lines."
    params = (Param("day", "The day to fetch.", kind="date"),)
    merge_key = None
    land_each_input = False

    def raw_schema(self) -> Any:
        import pyarrow as pa

        return pa.schema([("name", pa.string()), ("day", pa.date32()), ("value", pa.int64())])

    def _table(self, rows: list[tuple[str, dt.date, int]]) -> Any:
        import pyarrow as pa

        names, days, values = zip(*rows, strict=True) if rows else ((), (), ())
        return pa.table(
            {"name": list(names), "day": list(days), "value": list(values)},
            schema=self.raw_schema(),
        )

    def parse(self, path: Path, request: Request) -> Any:
        rows = []
        for line in path.read_text().splitlines():
            name, day, value = line.split(";")
            rows.append((name, dt.date.fromisoformat(day), int(value)))
        return self._table(rows)

    def fetch(self, request: Request) -> Fetched:
        if request["day"] is None:
            raise SourceError("give --day")
        return Fetched(self._table([("fetched", request["day"], 1)]), input="toy network")

    def groups(self, table: Any) -> list[Any]:
        return [table]

    def split(self, table: Any) -> dict[dt.date, Any]:
        return split_by_date(table, "day")

    def object_name(self, day: dt.date, rows: Any, request: Request) -> str:
        return "part-0"

    def scheduled(self, day: dt.date, settings: Any) -> list[tuple[str, dict[str, Any]]]:
        return [(self.name, {"day": day})]


@pytest.fixture
def toy() -> Any:
    source = registry.register(ToySource())
    yield source
    registry.unregister("toy")


def test_a_toy_source_lands_through_the_generic_extract(toy: Any, tmp_path: Path) -> None:
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings
    from b3lake.storage.local import LocalStorage

    assert isinstance(toy, Source)
    data = tmp_path / "values.txt"
    data.write_text("a;2021-01-04;1\nb;2021-01-04;2\na;2021-01-05;3\n")
    pipeline = Pipeline(Settings(lake=str(tmp_path / "lake")))
    report = pipeline.extract("toy", files=[data])
    assert report.rows_read == 3 and report.sessions == ["2021-01-04", "2021-01-05"]
    assert report.line().startswith("toy_values: 3 rows read, 2 session(s), 2 raw object(s)")
    storage = LocalStorage(tmp_path / "lake")
    assert storage.list_keys("raw/toy_values/") == [
        "raw/toy_values/dt=2021-01-04/part-0.parquet",
        "raw/toy_values/dt=2021-01-05/part-0.parquet",
    ]
    # Catalogued like every raw table; a re-run changes nothing.
    assert "raw_toy_values" in {t.name for t in pipeline.backend.catalog.list_tables()}
    assert pipeline.extract("toy", files=[data]).objects_unchanged == 2
    # Without files the source fetches; its params are the only options it takes.
    fetched = pipeline.extract("toy", day="2021-01-06")
    assert fetched.inputs == ["toy network"] and fetched.sessions == ["2021-01-06"]
    with pytest.raises(ConfigError, match="unknown option"):
        pipeline.extract("toy", year=2021)


def test_a_toy_source_is_a_setting_and_a_scheduled_extract(toy: Any, tmp_path: Path) -> None:
    from dataclasses import dataclass

    from b3lake.lambdas.extract import handler
    from b3lake.settings import Settings

    @dataclass
    class Context:
        b3lake_settings: Settings

    settings = Settings(lake=str(tmp_path), sources=["toy"])
    out = handler({"date": "2021-01-04"}, Context(settings))
    assert out["errors"] == {} and out["sources"]["toy"].startswith("toy_values: 1 rows read")
    # A source the registry does not know: the extract Lambda refuses it before extracting.
    wrong = Settings(lake=str(tmp_path), sources=["toy", "nope"])
    with pytest.raises(ConfigError, match=r"unknown source\(s\) \['nope'\]") as err:
        handler({"date": "2021-01-04"}, Context(wrong))
    assert err.value.field == "sources"


def test_registering_a_clashing_name_fails() -> None:
    class Clash(ToySource):
        name = "cotahist"

    with pytest.raises(ConfigError, match="clashes"):
        registry.register(Clash())


def test_the_jobs_raw_inputs_derive_from_the_registry() -> None:
    from b3lake.jobs.refine import schemas

    for raw, projection in schemas.RAW_INPUTS.items():
        full = registry.get(raw).raw_schema()
        assert [(f.name, f.type) for f in projection] == [
            (f.name, full.field(f.name).type) for f in projection
        ]
