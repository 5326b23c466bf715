"""RefineArgs: the one declaration of the refine job's arguments."""

from __future__ import annotations

import datetime as dt

import pytest

from b3lake.errors import ConfigError
from b3lake.jobs.refine.args import RefineArgs, Universe
from b3lake.jobs.refine.job import JOB_ARGUMENTS
from b3lake.launchers.local import glue_argv


def _argv(args: dict[str, str]) -> list[str]:
    return glue_argv("b3lake-refine", "jr_1", args)


def test_round_trip_through_glue_argv() -> None:
    args = RefineArgs(
        lake="s3://b/lake",
        dt=dt.date(2021, 1, 5),
        raw_key="raw/cotahist/dt=2021-01-05/part-0.parquet",
        catalog_database="b3",
        universe=Universe(codbdi=("02",), tickers=("PETR4", "VALE3"), exclude_especi=()),
        r6_tickers=("PETR4",),
    )
    arguments = args.to_arguments()
    assert arguments["--tickers"] == "PETR4,VALE3"
    assert arguments["--exclude_especi"] == "none"  # an empty list is never an empty string
    assert all(v for v in arguments.values())
    assert RefineArgs.from_argv(_argv(arguments)) == args
    assert tuple(k[2:] for k in arguments) == RefineArgs.names() == JOB_ARGUMENTS


def test_defaults_and_the_deployment_part() -> None:
    args = RefineArgs(lake="/lake")
    assert args.deployment_arguments() == {
        "--lake": "/lake",
        "--mode": "incremental",
        "--catalog_database": "default",
        "--tpmerc": "010",
        "--codbdi": "02,12",
        "--tickers": "none",
        "--exclude_especi": "IBO",
    }
    assert set(RefineArgs.deployment_names()) - set(RefineArgs.OPTIONAL) == {
        k[2:] for k in args.deployment_arguments()
    }
    assert RefineArgs.universe_arguments() == {
        k: v
        for k, v in args.deployment_arguments().items()
        if k[2:] in ("tpmerc", "codbdi", "tickers", "exclude_especi")
    }
    run = args.for_run(dt=dt.date(2021, 1, 4))
    assert run.to_arguments()["--dt"] == "2021-01-04" and run.lake == "/lake"
    # Arguments a run leaves out keep the defaults (Glue's job defaults fill them in AWS).
    parsed = RefineArgs.from_argv(_argv({"--lake": "/lake", "--dt": "2021-01-04"}))
    assert parsed.universe == Universe() and parsed.dt == dt.date(2021, 1, 4)


def test_the_job_options_come_from_refine_args() -> None:
    argv = _argv({"--lake": "/l", "--raw_key": "raw/cotahist/dt=2021-01-06/part-0.parquet"})
    options = RefineArgs.from_argv(argv)
    assert options.dt == dt.date(2021, 1, 6) and options.universe == Universe()
    # Nothing of the run's date reaches the job: stored values do not depend on it.
    assert not any("date" in name for name in JOB_ARGUMENTS)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"--dt": "2021-01-04"}, "lake"),
        ({"--lake": "/l", "--mode": "sometimes"}, "mode"),
        ({"--lake": "/l", "--dt": "2021-13-01"}, "dt"),
    ],
)
def test_bad_arguments_name_the_argument(arguments: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        RefineArgs.from_argv(_argv(arguments))
    assert info.value.field == field


def test_settings_mean_the_same_arguments(tmp_path: object) -> None:
    from b3lake.settings import Settings

    settings = Settings(lake="/lake", universe={"tickers": ["PETR4"], "exclude_especi": []})
    args = settings.refine_args()
    assert args.universe == Universe(tickers=("PETR4",), exclude_especi=())
    env = settings.deployment_environment()
    assert env["B3LAKE_UNIVERSE__TICKERS"] == '["PETR4"]'
    assert env["B3LAKE_UNIVERSE__EXCLUDE_ESPECI"] == "[]"
    assert Settings().refine_args().universe == Universe()  # one set of defaults
