"""Shared test set-up: offline AWS credentials, paths to the project's real fixtures."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's server on 127.0.0.1 and a free port; stopped after the module."""
    port = _free_port()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
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
