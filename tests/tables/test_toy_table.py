"""A toy table added through the registry alone (this module's spec and one ``register``),
refined from the sources developer's toy source (``tests/sources/test_registry.py``): landed by
the generic extract, refined by the job, catalogued and queryable like every table."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from b3lake import tables
from b3lake.tables import TableSpec

ROOT = Path(__file__).resolve().parents[2]


def _toy_source() -> Any:
    """The toy source of the source registry's tests, as that test module defines it."""
    path = ROOT / "tests" / "sources" / "test_registry.py"
    spec = importlib.util.spec_from_file_location("b3lake_toy_source_tests", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ToySource()


def _totals(inputs: dict[str, Any]) -> Any:
    """Per day and name: the sum and the count of the toy values (PySpark API)."""
    from b3lake.engines import sql_api

    values = inputs["toy_values"]
    F = sql_api(values).F  # noqa: N806
    return (
        values.withColumnRenamed("day", "dt")
        .groupBy("dt", "name")
        .agg(
            F.sum("value").cast("bigint").alias("total"),
            F.count(F.lit(1)).cast("int").alias("values"),
        )
    )


TOY_TOTALS = TableSpec(
    name="refined_toy_totals",
    prefix="toy_totals",
    description="Toy values summed per day and name.",
    partition_keys=(("dt", "date"),),
    columns=(("name", "string"), ("total", "bigint"), ("values", "int")),
    sort_by=("name",),
    inputs=("toy_values",),
    refine=_totals,
)


@pytest.fixture
def toy() -> Any:
    from b3lake.sources import registry

    source = registry.register(_toy_source())
    tables.register(TOY_TOTALS)
    yield source
    tables.unregister(TOY_TOTALS.name)
    registry.unregister(source.name)


def test_a_toy_table_refines_a_toy_source(toy: Any, tmp_path: Path) -> None:
    import datetime as dt

    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    data = tmp_path / "values.txt"
    data.write_text("a;2021-01-04;1\nb;2021-01-04;2\na;2021-01-04;4\na;2021-01-05;3\n")
    pipeline = Pipeline(Settings(lake=str(tmp_path / "lake")))
    assert pipeline.extract("toy", files=[data]).sessions == ["2021-01-04", "2021-01-05"]
    for day in (dt.date(2021, 1, 4), dt.date(2021, 1, 5)):
        pipeline.refine(day=day)

    storage = pipeline.backend.storage
    assert storage.list_keys("refined/toy_totals/") == [
        "refined/toy_totals/dt=2021-01-04/part-0.parquet",
        "refined/toy_totals/dt=2021-01-05/part-0.parquet",
    ]
    info = pipeline.backend.catalog.get_table("refined_toy_totals")
    assert info.columns == list(TOY_TOTALS.columns) and len(info.partitions) == 2
    rows = (
        pipeline.backend.query_engine()
        .query('SELECT dt, name, total, "values" FROM refined_toy_totals ORDER BY dt, name')
        .to_pylist()
    )
    assert rows == [
        {"dt": dt.date(2021, 1, 4), "name": "a", "total": 5, "values": 2},
        {"dt": dt.date(2021, 1, 4), "name": "b", "total": 2, "values": 1},
        {"dt": dt.date(2021, 1, 5), "name": "a", "total": 3, "values": 1},
    ]
    # A full rebuild gives the same bytes; the manifest (Terraform) would carry the table.
    before = {k: storage.get_bytes(k) for k in storage.list_keys("refined/toy_totals/")}
    pipeline.refine(mode="full")
    assert {k: storage.get_bytes(k) for k in storage.list_keys("refined/toy_totals/")} == before
    assert tables.manifest()["refined_toy_totals"]["location"] == "refined/toy_totals/"


def _yearly(inputs: dict[str, Any]) -> Any:
    """Each toy value as a row of its day (``dt`` a column of a year file)."""
    from b3lake.engines import sql_api

    values = inputs["toy_values"]
    F = sql_api(values).F  # noqa: N806
    return values.select(F.col("day").alias("dt"), "name", F.col("value").cast("bigint"))


TOY_YEARLY = TableSpec(
    name="refined_toy_yearly",
    prefix="toy_yearly",
    description="Toy values, one file a year.",
    partition_keys=(("year", "string"),),
    columns=(("dt", "date"), ("name", "string"), ("value", "bigint")),
    sort_by=("name", "dt"),
    inputs=("toy_values",),
    refine=_yearly,
)


def test_a_table_by_year_rebuilds_its_year_from_every_object_of_it(
    toy: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registered table partitioned by year: a new day rewrites its year's one file from every
    raw object of that year; a rebuild runs one chunk a year; both leave the same bytes."""
    from b3lake.jobs.refine.steps import registered
    from b3lake.pipeline import Pipeline
    from b3lake.settings import Settings

    tables.register(TOY_YEARLY)
    try:
        pipeline = Pipeline(Settings(lake=str(tmp_path / "lake")))
        for i, text in enumerate(["a;2020-12-30;1\n", "a;2021-01-04;2\n", "b;2021-01-05;3\n"]):
            data = tmp_path / f"values-{i}.txt"
            data.write_text(text)
            pipeline.extract("toy", files=[data])  # each lands and its event refines it
        storage = pipeline.backend.storage
        assert storage.list_keys("refined/toy_yearly/") == [
            "refined/toy_yearly/year=2020/part-0.parquet",
            "refined/toy_yearly/year=2021/part-0.parquet",
        ]
        rows = pipeline.backend.query_engine().query(
            "SELECT year, dt, name, value FROM refined_toy_yearly ORDER BY dt"
        )
        assert [(r["year"], r["name"], r["value"]) for r in rows.to_pylist()] == [
            ("2020", "a", 1),
            ("2021", "a", 2),
            ("2021", "b", 3),
        ]
        before = {k: storage.get_bytes(k) for k in storage.list_keys("refined/toy_yearly/")}
        chunks: list[list[Any]] = []
        real = registered._run_chunk
        monkeypatch.setattr(
            registered,
            "_run_chunk",
            lambda ctx, spec, days: chunks.append(days) or real(ctx, spec, days),
        )
        pipeline.refine(mode="full")
        yearly = [sorted({d.year for d in c}) for c in chunks if c]
        assert [y for y in yearly if len(y) > 1] == [] and len(yearly) >= 2  # a chunk a year
        assert {k: storage.get_bytes(k) for k in storage.list_keys("refined/toy_yearly/")} == before
    finally:
        tables.unregister(TOY_YEARLY.name)


def test_a_dt_table_runs_in_months_and_a_year_table_in_years() -> None:
    """The registered step's chunks (``registered._chunks``): a month of a ``dt`` table (the
    options of a year would double a rebuild's peak memory), a whole year of a ``year`` table."""
    import datetime as dt

    from b3lake.jobs.refine.steps import registered

    days = [dt.date(2020, 12, 30), dt.date(2021, 1, 4), dt.date(2021, 1, 5), dt.date(2021, 2, 1)]
    assert registered._chunks(TOY_TOTALS, days) == [days[:1], days[1:3], days[3:]]
    assert registered._chunks(TOY_YEARLY, days) == [days[:1], days[1:]]
    assert registered._chunks(tables.table("refined_options"), days[::-1]) == [
        days[:1],
        days[1:3],
        days[3:],
    ]
