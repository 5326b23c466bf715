"""The generated visual job: a CreateJob request botocore accepts, meeting issue 16's checklist,
built from the project's contracts (the transform's renames, the universe settings)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from botocore.validate import ParamValidator
from typer.testing import CliRunner

from b3lake.errors import ConfigError
from b3lake.jobs.refine import schemas
from b3lake.jobs.refine.transforms import quotes as transform
from b3lake.jobs.visual import dag
from b3lake.jobs.visual.validate import _model, validate_request
from b3lake.settings import Settings

ROLE = "arn:aws:iam::123456789012:role/LabRole"
SCRIPT = "s3://b3lake-dev-scripts/glue/visual/b3lake-visual.py"
LAKE = "s3://b3lake-dev-lake/lake"


def _request(**overrides: Any) -> dict[str, Any]:
    config = dag.VisualJobConfig(lake=LAKE, role=ROLE, script_location=SCRIPT, **overrides)
    return dag.job_request(config)


def _nodes_of(request: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [n[kind] for n in request["CodeGenConfigurationNodes"].values() if kind in n]


def test_visual_request_passes_botocore_parameter_validation() -> None:
    request = _request()
    shape = _model().operation_model("CreateJob").input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    validate_request(request)  # and ours
    json.dumps(request)  # plain JSON: `aws glue create-job --cli-input-json` takes it as is


def test_visual_request_meets_the_issue_checklist() -> None:
    request = _request()
    assert request["JobMode"] == "VISUAL"
    assert request["GlueVersion"] == "5.0"
    assert request["Command"] == {"Name": "glueetl", "ScriptLocation": SCRIPT, "PythonVersion": "3"}
    assert (request["WorkerType"], request["NumberOfWorkers"]) == ("G.1X", 2)
    assert request["Role"] == ROLE
    assert request["DefaultArguments"]["--enable-glue-datacatalog"] == "true"
    # a source
    (source,) = _nodes_of(request, "S3ParquetSource")
    assert source["Paths"] == [f"{LAKE}/raw/cotahist/"]
    # B: at least two renames besides dt and ticker
    (mapping,) = _nodes_of(request, "ApplyMapping")
    renamed = {m["FromPath"][0]: m["ToKey"] for m in mapping["Mapping"]}
    others = {k: v for k, v in renamed.items() if v not in ("dt", "ticker") and k != v}
    assert len(others) >= 2, renamed
    # A: sum and count, grouped by dt and ticker
    (aggregate,) = _nodes_of(request, "Aggregate")
    assert aggregate["Groups"] == [["dt"], ["ticker"]]
    functions = {a["AggFunc"] for a in aggregate["Aggs"]}
    assert {"sum", "count"} <= functions
    # C: a date calculation, never from the clock, naming the aggregates
    sql = {n["Name"]: n["SqlQuery"] for n in _nodes_of(request, "SparkSQL")}
    date_sql = next(q for q in sql.values() if "DATEDIFF" in q)
    assert "current_date" not in " ".join(sql.values()).lower()
    assert "`sum(volume)` AS BIGINT) AS volume" in date_sql
    assert "`count(ticker)`" in date_sql
    # the target: partitioned by dt and ticker, creating/updating its table in default
    (target,) = _nodes_of(request, "S3GlueParquetTarget")
    assert target["Path"] == f"{LAKE}/refined/visual_quotes/"
    assert target["PartitionKeys"] == [["dt"], ["ticker"]]
    assert target["SchemaChangePolicy"] == {
        "EnableUpdateCatalog": True,
        "UpdateBehavior": "UPDATE_IN_DATABASE",
        "Database": "default",
        "Table": "visual_quotes",
    }
    # one chain from the source to the target
    from b3lake.jobs.visual.validate import topological_order

    assert topological_order(request["CodeGenConfigurationNodes"]) == [
        dag.SOURCE,
        dag.UNIVERSE,
        dag.RENAME,
        dag.DAILY,
        dag.SESSIONS,
        dag.REPLACE,
        dag.SELECT,
        dag.TARGET,
    ]


def test_visual_renames_are_the_ones_the_transform_does(sqlframe_engine: Any) -> None:
    """Each raw column of B reaches the code job's refined column of the same name, unchanged."""
    row = {
        "datpre": dt.date(2021, 1, 4),
        "codbdi": "02",
        "codneg": "PETR4",
        "tpmerc": "010",
        "nomres": "PETROBRAS",
        "especi": "PN",
        "prazot": None,
        "preabe": Decimal("28.65"),
        "premax": Decimal("29.18"),
        "premin": Decimal("28.53"),
        "premed": Decimal("28.91"),
        "preult": Decimal("28.91"),
        "totneg": 52_345,
        "quatot": 74_719_700,
        "voltot": Decimal("2160251562.00"),
        "fatcot": 1,
        "codisi": "BRPETRACNPR6",
        "source_file": "COTAHIST_A2021.TXT",
        "line_number": 2,
    }
    raw = sqlframe_engine.from_arrow(pa.Table.from_pylist([row], schemas.RAW_COTAHIST))
    (out,) = sqlframe_engine.to_arrow(transform.normalize_cotahist(raw)).to_pylist()
    for raw_name, refined_name in dag.RENAMES.items():
        value = row[raw_name]
        assert out[refined_name] == (float(value) if isinstance(value, Decimal) else value)
    assert set(dag.SUMS) | {dag.COUNTED} <= set(dag.RENAMES.values())


def test_visual_universe_comes_from_the_settings() -> None:
    settings = Settings(
        lake=LAKE,
        universe={"tpmerc": ["010"], "codbdi": ["02"], "tickers": ["PETR4", "VALE3"]},
        visual={"role_arn": ROLE, "script_location": SCRIPT, "job_name": "my-visual"},
    )
    config = dag.VisualJobConfig.from_settings(settings)
    request = dag.job_request(config)
    assert request["Name"] == "my-visual"
    universe = request["CodeGenConfigurationNodes"][dag.UNIVERSE]["SparkSQL"]["SqlQuery"]
    assert "codbdi IN ('02')" in universe
    assert "codneg IN ('PETR4', 'VALE3')" in universe
    assert "especi NOT IN ('IBO')" in universe
    with pytest.raises(ConfigError, match=r"universe\.tickers"):
        dag.universe_sql(transform.Universe(tickers=("PETR4' OR 1=1 --",)))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lake": "./lake"}, "lake"),
        ({"role": ""}, "visual.role_arn"),
        ({"script_location": "s3://bucket/glue/"}, "visual.script_location"),
        ({"script_location": ""}, "visual.script_location"),
    ],
)
def test_visual_request_without_what_glue_needs_is_a_config_error(
    overrides: dict[str, str], field: str
) -> None:
    values = {"lake": LAKE, "role": ROLE, "script_location": SCRIPT, **overrides}
    with pytest.raises(ConfigError) as caught:
        dag.job_request(dag.VisualJobConfig(**values))  # type: ignore[arg-type]
    assert caught.value.field == field


def test_visual_console_link() -> None:
    assert dag.console_url("b3lake visual", "sa-east-1") == (
        "https://sa-east-1.console.aws.amazon.com/gluestudio/home?region=sa-east-1"
        "#/editor/job/b3lake%20visual/graph"
    )


def test_visual_job_cli_writes_the_whole_request(tmp_path: Path) -> None:
    from b3lake.cli import app

    out = tmp_path / "visual-job.json"
    result = CliRunner().invoke(
        app,
        ["--lake", LAKE, "glue", "visual-job", "--out", str(out), "--role", ROLE]
        + ["--script-location", SCRIPT],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == _request()
    assert "JobMode VISUAL" in result.output


def test_visual_job_cli_reads_the_settings_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from b3lake.cli import app

    monkeypatch.setenv("B3LAKE_VISUAL__ROLE_ARN", ROLE)
    monkeypatch.setenv("B3LAKE_VISUAL__SCRIPT_LOCATION", SCRIPT)
    monkeypatch.setenv("B3LAKE_VISUAL__SOURCE", "catalog")
    out = tmp_path / "job.json"
    result = CliRunner().invoke(app, ["--lake", LAKE, "glue", "visual-job", "--out", str(out)])
    assert result.exit_code == 0, result.output
    nodes = json.loads(out.read_text())["CodeGenConfigurationNodes"]
    assert nodes[dag.SOURCE] == {
        "S3CatalogSource": {
            "Name": "Raw COTAHIST (catalog default.raw_cotahist)",
            "Database": "default",
            "Table": "raw_cotahist",
        }
    }


@pytest.mark.parametrize(
    "command", ["visual-job", "deploy-visual-job", "diff-visual-job", "run-visual-job"]
)
def test_visual_glue_commands_have_help_with_an_example(command: str) -> None:
    from b3lake.cli import app

    result = CliRunner().invoke(app, ["glue", command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_traded_value_is_mapped_as_decimal_18_2_the_raw_precision() -> None:
    """Glue reads a bare ``decimal`` as decimal(10,2): the mapping names the raw schema's type."""
    (rename,) = [n for n in _nodes_of(_request(), "ApplyMapping")]
    types = {m["ToKey"]: (m["FromType"], m["ToType"]) for m in rename["Mapping"]}
    assert types["traded_value"] == ("decimal(18,2)", "decimal(18,2)")


def _cast_through_apply_mapping(engine: Any, tmp_path: Path, to_type: str) -> list[Any]:
    """voltot values through one S3ParquetSource -> ApplyMapping(ToType=to_type) DAG."""
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from b3lake.jobs.visual import interpret
    from b3lake.storage.local import LocalStorage

    values = [
        decimal.Decimal(v) for v in ("123456789012.34", "99999999.99", "100000000.00", "-7.5")
    ]
    table = pa.table({"voltot": pa.array(values, pa.decimal128(18, 2))})
    folder = tmp_path / "raw" / "cotahist" / "dt=2024-01-02"
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "part-0.parquet")
    lake = "s3://b3lake-test/lake"
    nodes = {
        "src": {
            "S3ParquetSource": {
                "Name": "source",
                "Paths": [f"{lake}/raw/cotahist/"],
                "Recurse": True,
                "OutputSchemas": [{"Columns": [{"Name": "voltot", "Type": "decimal(18,2)"}]}],
            }
        },
        "map": {
            "ApplyMapping": {
                "Name": "rename",
                "Inputs": ["src"],
                "Mapping": [
                    {
                        "ToKey": "traded_value",
                        "FromPath": ["voltot"],
                        "FromType": "decimal(18,2)",
                        "ToType": to_type,
                        "Dropped": False,
                    }
                ],
            }
        },
    }
    run = interpret.run_dag(nodes, engine=engine, storage=LocalStorage(tmp_path), lake=lake)
    out = engine.to_arrow(run.frames["map"])
    return [None if v is None else str(v) for v in out.column("traded_value").to_pylist()]


def test_apply_mapping_casts_as_glue_a_value_that_does_not_fit_becomes_null(
    sqlframe_engine: Any, tmp_path: Path
) -> None:
    """A traded value above 10^8 survives decimal(18,2) and is null under Glue's bare decimal
    (10,2): the interpreter casts equal types too, so parity would see the bare one."""
    kept = _cast_through_apply_mapping(sqlframe_engine, tmp_path / "a", "decimal(18,2)")
    assert kept == ["123456789012.34", "99999999.99", "100000000.00", "-7.50"]
    bare = _cast_through_apply_mapping(sqlframe_engine, tmp_path / "b", "decimal")
    assert bare == [None, "99999999.99", None, "-7.50"]


@pytest.mark.spark
def test_apply_mapping_casts_on_spark_as_on_sqlframe(spark_engine: Any, tmp_path: Path) -> None:
    kept = _cast_through_apply_mapping(spark_engine, tmp_path / "a", "decimal(18,2)")
    assert kept == ["123456789012.34", "99999999.99", "100000000.00", "-7.50"]
    bare = _cast_through_apply_mapping(spark_engine, tmp_path / "b", "decimal")
    assert bare == [None, "99999999.99", None, "-7.50"]
