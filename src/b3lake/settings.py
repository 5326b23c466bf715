"""One settings object for every command and backend.

Read, lowest precedence first: defaults, a TOML file (``b3lake.toml`` in the working directory or the
path in ``B3LAKE_CONFIG``), ``B3LAKE_*`` environment variables, then explicit CLI options.
Nothing about a bucket, account, region or ticker list lives in code.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from b3lake.errors import ConfigError, warn_renamed
from b3lake.jobs.refine.args import RefineArgs, Universe

DEFAULT_CONFIG_FILE = "b3lake.toml"


class UniverseSettings(BaseSettings):
    """Which COTAHIST records the refine step keeps (raw keeps them all); the defaults are
    ``b3lake.jobs.refine.args.Universe``'s (spot round lots, BDI 02 and 12, no IBO record)."""

    model_config = SettingsConfigDict(extra="forbid")

    tpmerc: list[str] = Field(default_factory=lambda: list(Universe().tpmerc))
    codbdi: list[str] = Field(default_factory=lambda: list(Universe().codbdi))
    # Empty = every ticker that matches the market filters.
    tickers: list[str] = Field(default_factory=lambda: list(Universe().tickers))
    exclude_especi: list[str] = Field(default_factory=lambda: list(Universe().exclude_especi))
    # The tickers that get dt x ticker partitions in refined_quotes (refined/quotes/dt=…/ticker=…/);
    # empty = the whole universe. The history layer (refined_quotes_history) always holds it all.
    partitioned_tickers: list[str] = Field(default_factory=list)
    # The old name of partitioned_tickers (requirement R6's table): still read, from b3lake.toml or
    # B3LAKE_UNIVERSE__R6_TICKERS, with a RenamedWarning; None once validated.
    r6_tickers: list[str] | None = None

    @model_validator(mode="after")
    def _read_the_old_name(self) -> UniverseSettings:
        if self.r6_tickers is not None:
            warn_renamed(
                "[universe] r6_tickers (B3LAKE_UNIVERSE__R6_TICKERS)",
                "[universe] partitioned_tickers (B3LAKE_UNIVERSE__PARTITIONED_TICKERS)",
                stacklevel=2,
            )
            given = "partitioned_tickers" in self.model_fields_set
            if given and self.partitioned_tickers != self.r6_tickers:
                raise ValueError("r6_tickers (the old name of partitioned_tickers) differs from it")
            self.partitioned_tickers = list(self.r6_tickers)
            self.r6_tickers = None
        return self


class CorporateActionsSettings(BaseSettings):
    """What the daily extract asks B3's listed-companies API (``b3lake.sources.corporate_actions``)."""

    model_config = SettingsConfigDict(extra="forbid")

    # Issuer codes (ABEV, PETR); empty = every issuer of the landed tickers (the whole market).
    issuers: list[str] = Field(default_factory=list)
    # Spread the issuers over this many sessions (each is asked once every N sessions): ~300
    # issuers at ~2 requests each take ~5 minutes, past the extract Lambda's budget; with 5, ~60
    # issuers a session (about a minute of requests). The same default on every backend.
    batches: int = Field(default=5, ge=1)
    # Seconds between two requests to B3 (politeness; retries count).
    min_interval_seconds: float = Field(default=0.5, ge=0)


class VisualJobSettings(BaseSettings):
    """The Glue Studio visual job (``b3lake glue visual-job``; ``b3lake.jobs.visual``)."""

    model_config = SettingsConfigDict(extra="forbid")

    job_name: str = "b3lake-visual"
    # The role Glue runs it as (the refine job's; LabRole in a lab account).
    role_arn: str | None = None
    # Where Glue keeps the job's script (s3://<scripts bucket>/glue/visual/b3lake-visual.py).
    script_location: str | None = None
    # Read raw COTAHIST from S3 ("s3") or through its catalog table raw_cotahist ("catalog").
    source: Literal["s3", "catalog"] = "s3"
    glue_version: str = "5.0"
    worker_type: str = "G.1X"
    number_of_workers: int = Field(default=2, ge=2)
    timeout_minutes: int = Field(default=60, ge=1)


class Settings(BaseSettings):
    """Every knob of the pipeline; ``backend`` picks the adapters (see ``b3lake.backends``)."""

    model_config = SettingsConfigDict(
        env_prefix="B3LAKE_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file=None,
    )

    backend: Literal["local", "aws"] = "local"
    # A local directory, or s3://bucket/prefix for AWS.
    lake: str = "./lake"
    catalog_database: str = "default"
    glue_job_name: str = "b3lake-refine"
    athena_workgroup: str = "b3lake"
    aws_region: str | None = None
    # Endpoint override for every AWS client (moto server, LocalStack); None = the real AWS.
    aws_endpoint_url: str | None = None
    # Names from b3lake.sources.registry: the extract Lambda, which reads them, checks them there
    # before it extracts anything (registry.check_names). Not here: the settings sit below the
    # sources, which read them (docs/architecture.md, **Layers**); adding a source does not touch
    # this file.
    sources: list[str] = Field(default_factory=lambda: ["cotahist"])
    universe: UniverseSettings = Field(default_factory=UniverseSettings)
    # yfinance tickers (B3 codes, without .SA); also the default tickers of the report.
    tickers: list[str] = Field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None
    indexes: list[str] = Field(default_factory=lambda: ["IBOV"])
    # The indices whose daily closes the index_levels source fetches (B3's index statistics).
    index_levels: list[str] = Field(default_factory=lambda: ["IBOV"])
    corporate_actions: CorporateActionsSettings = Field(default_factory=CorporateActionsSettings)
    # Sessions of look-back the refine windows need (the longest moving average is 21).
    lookback_sessions: int = Field(default=21, ge=0)
    # Which Glue job the trigger starts for new raw objects: the script job, the visual one, both.
    trigger_jobs: Literal["script", "visual", "both"] = "script"
    visual: VisualJobSettings = Field(default_factory=VisualJobSettings)

    @field_validator("lake")
    @classmethod
    def _lake_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("lake must be a directory or an s3://bucket/prefix URI")
        return value.strip()

    @property
    def lake_is_s3(self) -> bool:
        return self.lake.startswith("s3://")

    def refine_args(self, *, lake: str | None = None) -> RefineArgs:
        """The refine job's deployment-wide arguments these settings mean (lake, catalog
        database, universe); a run adds its own with ``.for_run(dt=…, …)``."""
        u = self.universe
        return RefineArgs(
            lake=lake or self.lake,
            catalog_database=self.catalog_database,
            universe=Universe.of(
                tpmerc=u.tpmerc, codbdi=u.codbdi, tickers=u.tickers, exclude_especi=u.exclude_especi
            ),
            partitioned_tickers=tuple(u.partitioned_tickers),
        )

    def deployment_environment(self) -> dict[str, str]:
        """The ``B3LAKE_*`` variables a deployed process (the Lambdas) needs to mean the same as
        these settings; infra/envs/dev sets the same names (tests/infra checks it)."""
        u = self.universe
        env = {
            "B3LAKE_BACKEND": self.backend,
            "B3LAKE_LAKE": self.lake,
            "B3LAKE_GLUE_JOB_NAME": self.glue_job_name,
            "B3LAKE_CATALOG_DATABASE": self.catalog_database,
            "B3LAKE_SOURCES": json.dumps(list(self.sources)),
            "B3LAKE_ATHENA_WORKGROUP": self.athena_workgroup,
        }
        if self.aws_region:
            # Every deployed component gets its region explicitly (b3lake.awsclients).
            env["B3LAKE_AWS_REGION"] = self.aws_region
        for name, values in (
            ("tpmerc", u.tpmerc),
            ("codbdi", u.codbdi),
            ("tickers", u.tickers),
            ("exclude_especi", u.exclude_especi),
            ("partitioned_tickers", u.partitioned_tickers),
        ):
            env[f"B3LAKE_UNIVERSE__{name.upper()}"] = json.dumps(list(values))
        # What the scheduled extract fetches: the indices' levels, the issuers' corporate actions.
        env["B3LAKE_INDEX_LEVELS"] = json.dumps(list(self.index_levels))
        ca = self.corporate_actions
        env["B3LAKE_CORPORATE_ACTIONS__ISSUERS"] = json.dumps(list(ca.issuers))
        env["B3LAKE_CORPORATE_ACTIONS__BATCHES"] = str(ca.batches)
        env["B3LAKE_CORPORATE_ACTIONS__MIN_INTERVAL_SECONDS"] = str(ca.min_interval_seconds)
        return env

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get("B3LAKE_CONFIG", DEFAULT_CONFIG_FILE)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if Path(config_file).is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; any problem becomes a ConfigError naming the setting."""
    config_file = os.environ.get("B3LAKE_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise ConfigError("config file not found", source=config_file)
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            first["msg"], source="settings", field=field, value=first.get("input")
        ) from exc
