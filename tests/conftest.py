"""Shared test set-up: offline AWS credentials, paths to the project's real fixtures."""

from __future__ import annotations

import os
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


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No B3LAKE_* variable from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("B3LAKE_"):
            monkeypatch.delenv(key)


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
