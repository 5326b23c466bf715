"""Helpers for the infrastructure tests: terraform and its provider mirror, checkov, python-hcl2, a moto server.

Everything is found on the machine or skipped with a visible reason; with CI=true the checks that must run fail
instead of skipping (see each helper).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from moto_support import free_port, reset_moto

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
ENV_DEV = INFRA / "envs" / "dev"
MODULES = INFRA / "modules"
IN_CI = os.environ.get("CI", "").strip().lower() == "true"

DEFAULT_MIRROR = Path("/opt/tf-plugins")
AWS_PROVIDER = Path("registry.terraform.io/hashicorp/aws")


# ---------------------------------------------------------------------------------------------------------------------
# terraform
# ---------------------------------------------------------------------------------------------------------------------
def terraform_binary() -> str | None:
    return os.environ.get("B3LAKE_TERRAFORM") or shutil.which("terraform")


def require_terraform() -> str:
    binary = terraform_binary()
    if binary is None:
        pytest.skip("no terraform binary on PATH (or B3LAKE_TERRAFORM): Terraform checks not run")
    return binary


def provider_mirror() -> Path | None:
    """A filesystem mirror holding hashicorp/aws: $B3LAKE_TF_PLUGIN_MIRROR, else /opt/tf-plugins."""
    configured = os.environ.get("B3LAKE_TF_PLUGIN_MIRROR")
    candidate = Path(configured) if configured else DEFAULT_MIRROR
    if (candidate / AWS_PROVIDER).is_dir():
        return candidate
    return None


def use_registry() -> bool:
    """B3LAKE_TF_USE_REGISTRY=1: no mirror, let terraform init download the provider (CI runners with network)."""
    return os.environ.get("B3LAKE_TF_USE_REGISTRY", "") == "1"


def require_provider() -> Path | None:
    mirror = provider_mirror()
    if mirror is None and not use_registry():
        pytest.skip(
            "no hashicorp/aws provider mirror at $B3LAKE_TF_PLUGIN_MIRROR or /opt/tf-plugins "
            "(set B3LAKE_TF_USE_REGISTRY=1 where the registry is reachable): init/validate/apply not run"
        )
    return mirror


def write_cli_config(directory: Path, mirror: Path | None) -> Path:
    path = directory / "terraform.tfrc"
    if mirror is None:
        path.write_text("# registry access: default provider installation\n")
    else:
        path.write_text(
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            f'    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/aws"]\n'
            "  }\n"
            "  direct {\n"
            '    exclude = ["registry.terraform.io/hashicorp/aws"]\n'
            "  }\n"
            "}\n"
        )
    return path


@dataclass
class Terraform:
    """terraform in one working directory, with a private CLI config and offline-safe environment."""

    binary: str
    workdir: Path
    cli_config: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TF_", "AWS_")) or k in {"AWS_CA_BUNDLE"}
        }
        env.update(
            {
                "TF_CLI_CONFIG_FILE": str(self.cli_config),
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1",
                # Never a real account: fixed fake credentials, no shared config, no instance metadata.
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        env.update(self.extra_env)
        return env

    def run(
        self, *args: str, step: str | None = None, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = subprocess.run(
            [self.binary, args[0], *(["-no-color"] if args[0] != "state" else []), *args[1:]],
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        elapsed = time.monotonic() - started
        if step:
            self.timings[step] = round(elapsed, 1)
        return result

    def ok(self, *args: str, step: str | None = None, timeout: float = 900) -> str:
        result = self.run(*args, step=step, timeout=timeout)
        assert result.returncode == 0, (
            f"terraform {' '.join(args)} failed (exit {result.returncode}):\n"
            f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
        )
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args))


def copy_infra(target: Path) -> Path:
    """A private copy of infra/ (so .terraform/, state and override files never touch the repository)."""
    shutil.copytree(
        INFRA,
        target,
        ignore=shutil.ignore_patterns(
            ".terraform", "*.tfstate*", ".terraform.lock.hcl", "terraform.tfvars", "*_override.tf"
        ),
    )
    return target


# ---------------------------------------------------------------------------------------------------------------------
# checkov
# ---------------------------------------------------------------------------------------------------------------------
def checkov_binary() -> str | None:
    """checkov from its own virtualenv (.venv-checkov: it overwrites python-hcl2), or $B3LAKE_CHECKOV."""
    configured = os.environ.get("B3LAKE_CHECKOV")
    if configured:
        return configured if Path(configured).is_file() else None
    candidate = ROOT / ".venv-checkov" / "bin" / "checkov"
    return str(candidate) if candidate.is_file() else None


# ---------------------------------------------------------------------------------------------------------------------
# python-hcl2 (8.x keeps the quotes of string literals and block labels: '"name"')
# ---------------------------------------------------------------------------------------------------------------------
def unquote(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    return value


def load_hcl(path: Path) -> dict[str, Any]:
    import hcl2

    with path.open() as fh:
        return unquote(hcl2.load(fh))


def blocks(doc: dict[str, Any], kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of every `resource`/`data` block of a parsed file."""
    found = []
    for entry in doc.get(kind, []):
        for rtype, named in entry.items():
            for name, body in named.items():
                found.append((rtype, name, body))
    return found


def all_tf_files() -> list[Path]:
    return sorted(p for p in INFRA.rglob("*.tf") if ".terraform" not in p.parts)


def module_calls(path: Path = ENV_DEV / "main.tf") -> dict[str, dict[str, Any]]:
    doc = load_hcl(path)
    calls: dict[str, dict[str, Any]] = {}
    for entry in doc.get("module", []):
        calls.update(entry)
    return calls


def locals_of(path: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for entry in load_hcl(path).get("locals", []):
        merged.update(entry)
    return merged


# ---------------------------------------------------------------------------------------------------------------------
# moto server
# ---------------------------------------------------------------------------------------------------------------------
class MotoServer:
    """moto's threaded server on 127.0.0.1 and a free port; stop() always."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def __enter__(self) -> MotoServer:
        self._server.start()
        reset_moto(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def client(self, service: str, region: str = "us-east-1") -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
