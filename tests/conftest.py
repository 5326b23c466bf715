"""Shared test set-up: offline AWS credentials, paths to the project's real fixtures."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the helpers beside: moto_support

from moto_support import free_port, reset_moto  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Never reach a real AWS account from a test, even by accident.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SECURITY_TOKEN", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("B3LAKE_CONFIG", None)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Under ``make test`` (xdist, ``--dist loadgroup``) the tests that share a costly session
    fixture share a worker, so it is built once per run, not once per worker: every test on
    Spark (one JVM), and every test on the sample pipeline's lake. Marked as each test is
    collected, before xdist reads the groups (its ``pytest_collection_modifyitems`` suffixes
    the test ids with ``@group``)."""
    names = getattr(item, "fixturenames", ())
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    if "spark_engine" in names:
        item.add_marker(pytest.mark.xdist_group("spark"))
    elif "sample_lake" in names or params.get("any_lake") == "sample":
        item.add_marker(pytest.mark.xdist_group("sample_lake"))


def pytest_configure(config: pytest.Config) -> None:
    """Fail loudly, not slowly: from pytest 9.2 xdist's ``@group`` suffix no longer reaches the
    test ids (``Node.nodeid`` is derived from ``Node._id``), so every worker would start its own
    JVM and sample lake (pyproject's dev extra pins ``pytest<9.2`` for this)."""
    if getattr(config.option, "dist", "no") != "loadgroup" or not getattr(
        config.option, "numprocesses", None
    ):
        return
    version = tuple(int(part) for part in pytest.__version__.split(".")[:2])
    if version >= (9, 2):
        raise pytest.UsageError(
            f"--dist loadgroup does not group tests on pytest {pytest.__version__}: "
            "install pytest<9.2 (the dev extra), or run with TEST_WORKERS=0"
        )


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local[2] SparkSession for the whole run; fails (never skips) without pyspark or Java."""
    from b3lake.engines.spark import local_spark

    spark = local_spark("b3lake-tests")
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def spark_engine(spark_session: Any) -> Iterator[Any]:
    """A Spark engine over the run's session (its persisted frames and temp folders per module)."""
    from b3lake.engines.spark import SparkEngine

    engine = SparkEngine(spark_session)
    yield engine
    engine.close()


@pytest.fixture
def sample_cotahist() -> Path:
    return SAMPLE / "COTAHIST_A2021.ZIP"


@pytest.fixture
def sample_ibov() -> Path:
    return SAMPLE / "IBOVDia_03-10-25.csv"


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, no host AWS config, no B3LAKE_* variable from the developer's shell."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)
    for key in [k for k in os.environ if k.startswith("B3LAKE_")]:
        monkeypatch.delenv(key)


@pytest.fixture
def clean_env(offline_aws: None) -> None:
    """Explicit name for tests about settings: the environment is already clean."""


@pytest.fixture(scope="session")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The whole local pipeline run once on the bundled sample: ``(lake dir, RunSummary)``."""
    from b3lake.pipeline import run_pipeline
    from b3lake.settings import Settings

    lake = tmp_path_factory.mktemp("sample-lake")
    summary = run_pipeline(
        Settings(lake=str(lake)),
        cotahist_files=[SAMPLE / "COTAHIST_A2021.ZIP"],
        ibov_files=[SAMPLE / "IBOVDia_03-10-25.csv"],
    )
    return lake, summary


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's server on 127.0.0.1 and a free port; stopped after the module."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    reset_moto(url)  # moto's state is the process's: start empty
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def athena() -> Iterator[object]:
    """moto's in-process Athena with the ``b3lake`` workgroup (results under s3://b3lake-athena/)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("athena", region_name="us-east-1")
        client.create_work_group(
            Name="b3lake",
            Configuration={
                "ResultConfiguration": {"OutputLocation": "s3://b3lake-athena/results/"}
            },
        )
        yield client


@dataclass(frozen=True)
class CliResult:
    """What a CLI invocation gave: its exit code and what it printed (as ``subprocess.run``'s)."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., CliResult]:
    """Run ``b3lake <args>`` in this process through ``cli.main`` (exit codes and one-line errors
    included), so the CLI tests pay no interpreter start and no import of the stack per call.
    ``tests/test_cli.py`` keeps one subprocess test of the installed entry point."""
    from rich.console import Console

    from b3lake import cli
    from b3lake.jobs.visual import cli as visual_cli

    def run(*args: str, cwd: Path | None = None) -> CliResult:
        # The CLI's state lives in its module: the global options and its consoles (wide, so
        # no line wraps), and --config writes B3LAKE_CONFIG; each call starts from a clean one.
        monkeypatch.setattr(cli, "console", Console(width=200))
        monkeypatch.setattr(cli, "err_console", Console(stderr=True, width=200))
        monkeypatch.setattr(visual_cli, "console", Console(width=200))
        monkeypatch.setattr(cli, "_overrides", {})
        monkeypatch.setenv("COLUMNS", "200")
        # Recorded by monkeypatch (set, then removed) so its teardown removes what --config wrote.
        monkeypatch.setenv("B3LAKE_CONFIG", "")
        monkeypatch.delenv("B3LAKE_CONFIG")
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["b3lake", *args])
        capsys.readouterr()
        code: int
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return run
