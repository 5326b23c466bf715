"""The policies the permission tests evaluate are the ones Terraform renders today.

Without Terraform: the snapshot's digest of infra/modules/iam matches the module's files (an
edited module with an old snapshot fails here, whatever the machine). With Terraform and the
provider mirror: a fresh render (terraform plan of the module, tests/aws/iam/render_policies.py)
equals the checked-in snapshot, role by role.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "iam"))

import render_policies  # noqa: E402


def test_the_snapshot_was_rendered_from_the_module_as_it_is() -> None:
    snapshot = render_policies.load()
    assert snapshot["module_sha256"] == render_policies.module_digest(), (
        "infra/modules/iam changed since tests/aws/iam/rendered_policies.json was rendered: "
        "run .venv/bin/python tests/aws/iam/render_policies.py"
    )
    assert set(snapshot["roles"]) == {"extract", "trigger", "glue", "scheduler"}
    assert snapshot["inputs"] == render_policies.INPUTS


@pytest.mark.terraform
@pytest.mark.slow
def test_terraform_renders_the_snapshot() -> None:
    if render_policies.terraform_binary() is None:
        pytest.skip("no terraform binary: the snapshot is not re-rendered here")
    if render_policies.provider_mirror() is None:
        pytest.skip("no hashicorp/aws provider mirror: the snapshot is not re-rendered here")
    fresh = render_policies.render()
    assert fresh["roles"] == render_policies.load()["roles"]
