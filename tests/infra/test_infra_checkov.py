"""checkov over infra/ with zero failed checks, offline.

checkov runs from its own virtualenv (.venv-checkov/bin/checkov, or $B3LAKE_CHECKOV): it installs bc-python-hcl2,
which would overwrite python-hcl2 in the project's venv. Every skipped check is listed with its reason in
.checkov.yaml. Missing checkov: a failure when CI=true, a visible skip elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from typing import Any

import pytest
from infra_support import IN_CI, ROOT, checkov_binary

CONFIG = ROOT / ".checkov.yaml"


def test_every_skipped_check_has_a_reason() -> None:
    text = CONFIG.read_text()
    entries = re.findall(r"^\s*-\s*(CKV2?_[A-Z0-9_]+)(.*)$", text, re.M)
    assert entries, "no skip-check entries found"
    without_reason = [
        check
        for check, rest in entries
        if not rest.strip().startswith("#") or len(rest.strip()) < 10
    ]
    assert not without_reason, f"skipped without a reason in .checkov.yaml: {without_reason}"


def test_checkov_has_no_failed_checks(record_property: Any) -> None:
    binary = checkov_binary()
    if binary is None:
        message = (
            "checkov not found at .venv-checkov/bin/checkov (make creates it) or $B3LAKE_CHECKOV"
        )
        if IN_CI:
            pytest.fail(message + " - required when CI=true")
        pytest.skip(message)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["BC_SKIP_MAPPING"] = "TRUE"  # no download of the guideline mapping
    started = time.monotonic()
    result = subprocess.run(
        [binary, "--config-file", str(CONFIG), "-d", "infra", "--skip-download", "-o", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = round(time.monotonic() - started, 1)
    record_property("checkov_seconds", elapsed)
    print(f"\ncheckov: {elapsed} s")
    assert result.stdout.strip(), (
        f"checkov printed nothing (exit {result.returncode}):\n{result.stderr[-4000:]}"
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
        for report in reports
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(report.get("summary", {}).get("passed", 0) for report in reports)
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)
    assert passed > 50, f"checkov passed only {passed} checks: did it scan infra/?"
    assert result.returncode == 0, result.stderr[-4000:]
