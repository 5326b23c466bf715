from __future__ import annotations

from pathlib import Path

import pytest

from b3lake.errors import ConfigError
from b3lake.settings import load_settings


def test_defaults(clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.backend == "local"
    assert s.catalog_database == "default"
    assert s.universe.tpmerc == ["010"] and s.universe.codbdi == ["02", "12"]


def test_toml_then_env_then_overrides(
    clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b3lake.toml").write_text(
        'lake = "from-toml"\nglue_job_name = "job-toml"\ntickers = ["PETR4"]\n'
        '[universe]\ncodbdi = ["02"]\n'
    )
    s = load_settings()
    assert (s.lake, s.glue_job_name, s.tickers, s.universe.codbdi) == (
        "from-toml",
        "job-toml",
        ["PETR4"],
        ["02"],
    )
    monkeypatch.setenv("B3LAKE_LAKE", "s3://bucket/prefix")
    monkeypatch.setenv("B3LAKE_UNIVERSE__TICKERS", '["VALE3"]')
    s = load_settings()
    assert s.lake == "s3://bucket/prefix" and s.lake_is_s3
    assert s.universe.tickers == ["VALE3"]
    assert load_settings(lake="/tmp/x").lake == "/tmp/x"


def test_bad_setting_is_one_clear_error(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B3LAKE_BACKEND", "gcp")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "backend" in str(err.value) and "gcp" in str(err.value)


def test_missing_config_file(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B3LAKE_CONFIG", "/nonexistent/b3lake.toml")
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings()


def test_partitioned_tickers_and_its_old_name_in_the_toml(
    clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[universe] partitioned_tickers``; the old ``r6_tickers`` means the same, with a warning."""
    from b3lake.errors import RenamedWarning

    monkeypatch.chdir(tmp_path)
    toml = tmp_path / "b3lake.toml"
    toml.write_text('[universe]\npartitioned_tickers = ["PETR4"]\n')
    assert load_settings().refine_args().partitioned_tickers == ("PETR4",)
    toml.write_text('[universe]\nr6_tickers = ["PETR4"]\n')
    with pytest.warns(RenamedWarning, match=r"r6_tickers .* partitioned_tickers"):
        s = load_settings()
    assert s.universe.partitioned_tickers == ["PETR4"] and s.universe.r6_tickers is None
    assert s.refine_args().to_arguments()["--partitioned_tickers"] == "PETR4"


def test_the_deployment_environment_reads_back_as_the_same_settings(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the Lambdas get (deployment_environment) means what the settings mean: the indices
    and the corporate-actions schedule included."""
    from b3lake.settings import Settings

    settings = Settings(
        lake="s3://b/lake",
        aws_region="sa-east-1",
        index_levels=["IBOV", "SMLL"],
        corporate_actions={"issuers": ["ABEV"], "batches": 3, "min_interval_seconds": 1.5},
    )
    for name, value in settings.deployment_environment().items():
        monkeypatch.setenv(name, value)
    again = Settings()
    assert again.index_levels == ["IBOV", "SMLL"]
    assert again.corporate_actions == settings.corporate_actions
    assert again.universe == settings.universe
