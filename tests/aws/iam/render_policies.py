#!/usr/bin/env python3
"""Render the IAM policies of ``infra/modules/iam`` with Terraform itself, into
``tests/aws/iam/rendered_policies.json`` (checked in; the permission tests read it).

    .venv/bin/python tests/aws/iam/render_policies.py          # rewrite the snapshot
    .venv/bin/python tests/aws/iam/render_policies.py --check  # exit 1 if it is stale

Why Terraform and not python-hcl2: the policies are ``aws_iam_policy_document`` data sources with
interpolated ARNs, ``dynamic`` blocks, ``compact()``, ``for`` expressions and
``source_policy_documents`` merging; evaluating HCL ourselves would be a second, unverified
implementation of Terraform. Here the AWS provider renders the JSON it would send to IAM: a
wrapper root module calls ``infra/modules/iam`` with fixed names (those of the moto end-to-end
tests: bucket ``b3lake-lake``, lake prefix ``lake/``, account 123456789012, us-east-1) and
``terraform plan`` reads the data sources (the only AWS call is STS's GetCallerIdentity, answered
by a moto server on loopback). The snapshot records the sha256 of the module's files, so a test
without Terraform still knows when it is stale; with Terraform, tests/aws re-renders it and
compares (and tests/infra's apply test compares it with what the deployed roles hold).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MODULE = ROOT / "infra" / "modules" / "iam"
SNAPSHOT = HERE / "rendered_policies.json"
DEFAULT_MIRROR = Path("/opt/tf-plugins")

ACCOUNT = "123456789012"  # moto's
#: The names of the moto end-to-end flow (tests/aws/test_iam_permissions.py), as envs/dev derives them.
INPUTS: dict[str, Any] = {
    "region": "us-east-1",
    "name_prefix": "b3lake-dev",
    "lake_bucket_arn": "arn:aws:s3:::b3lake-lake",
    "lake_prefix": "lake/",
    "scripts_bucket_arn": "arn:aws:s3:::b3lake-scripts",
    "glue_job_name": "b3lake-dev-refine",
    "visual_job_name": "b3lake-dev-visual",
    "catalog_database": "default",
    "trigger_function_name": "b3lake-dev-trigger",
    "extract_function_name": "b3lake-dev-extract",
    "trigger_dlq_name": "b3lake-dev-trigger-dlq",
    "extract_dlq_name": "b3lake-dev-extract-dlq",
}


def module_digest() -> dict[str, str]:
    """sha256 of every file of the iam module (what the snapshot was rendered from)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(MODULE.glob("*.tf"))}


def _wrapper(inputs: dict[str, Any], endpoint: str) -> str:
    args = "\n".join(f"  {k} = {json.dumps(v)}" for k, v in inputs.items() if k != "region")
    return f"""terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
}}

provider "aws" {{
  region                      = {json.dumps(inputs["region"])}
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {{
    sts = "{endpoint}"
    iam = "{endpoint}"
  }}
}}

module "iam" {{
  source = "{MODULE}"
{args}
}}

output "policies" {{
  value = module.iam.policies
}}
"""


def terraform_binary() -> str | None:
    import shutil

    return os.environ.get("B3LAKE_TERRAFORM") or shutil.which("terraform")


def provider_mirror() -> Path | None:
    configured = os.environ.get("B3LAKE_TF_PLUGIN_MIRROR")
    candidate = Path(configured) if configured else DEFAULT_MIRROR
    return candidate if (candidate / "registry.terraform.io/hashicorp/aws").is_dir() else None


def render(inputs: dict[str, Any] = INPUTS) -> dict[str, Any]:
    """The snapshot: the module's digest, the inputs and each role's policy and trust policy."""
    from moto.server import ThreadedMotoServer

    binary = terraform_binary()
    mirror = provider_mirror()
    if binary is None or (mirror is None and os.environ.get("B3LAKE_TF_USE_REGISTRY") != "1"):
        raise RuntimeError("rendering needs terraform and the hashicorp/aws provider mirror")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="b3lake-iam-render-") as tmp:
            work = Path(tmp)
            (work / "main.tf").write_text(_wrapper(inputs, f"http://127.0.0.1:{port}"))
            rc = work / "terraform.tfrc"
            rc.write_text(
                "provider_installation {\n  filesystem_mirror {\n"
                f'    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n'
                '  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
                if mirror
                else ""
            )
            env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
            env.update(
                TF_CLI_CONFIG_FILE=str(rc),
                TF_IN_AUTOMATION="1",
                TF_INPUT="0",
                CHECKPOINT_DISABLE="1",
                AWS_CONFIG_FILE=os.devnull,
                AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                AWS_EC2_METADATA_DISABLED="true",
            )

            def tf(*args: str) -> str:
                out = subprocess.run(
                    [binary, *args], cwd=work, env=env, capture_output=True, text=True
                )
                if out.returncode != 0:
                    raise RuntimeError(f"terraform {' '.join(args)}: {out.stdout}{out.stderr}")
                return out.stdout

            tf("init", "-input=false", "-no-color")
            tf("plan", "-input=false", "-no-color", "-out=tfplan")
            plan = json.loads(tf("show", "-json", "tfplan"))
            version = json.loads(tf("version", "-json"))
    finally:
        server.stop()
    outputs = plan["planned_values"]["outputs"]["policies"]["value"]
    roles = {
        name: {
            "role": body["role"],
            "policy": json.loads(body["policy"]),
            "trust": json.loads(body["trust"]),
        }
        for name, body in sorted(outputs.items())
    }
    return {
        "rendered_by": {
            "terraform": version["terraform_version"],
            "providers": version.get("provider_selections", {}),
        },
        "module_sha256": module_digest(),
        "account": ACCOUNT,
        "inputs": inputs,
        "roles": roles,
    }


def load() -> dict[str, Any]:
    return dict(json.loads(SNAPSHOT.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the snapshot is stale")
    args = parser.parse_args(argv)
    fresh = render()
    if args.check:
        current = load() if SNAPSHOT.is_file() else {}
        same = {k: current.get(k) for k in ("module_sha256", "inputs", "roles")} == {
            k: fresh[k] for k in ("module_sha256", "inputs", "roles")
        }
        print("up to date" if same else f"stale: run {Path(__file__).relative_to(ROOT)}")
        return 0 if same else 1
    SNAPSHOT.write_text(json.dumps(fresh, indent=2, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
