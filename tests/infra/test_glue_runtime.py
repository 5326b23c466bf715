"""Glue 5.0's runtime pinned: the job makes pip install nothing Glue already provides at another version.

What Glue's pip gets (``--additional-python-modules``) is the b3lake wheel, whose requirements pin every module
Glue 5.0 provides to Glue's own version (scripts/package.py ``glue_requirements``), and the manifest's exact pins of
the rest, resolved with Glue's modules as constraints (``resolve_glue_dependencies``). Glue's list is checked in
(scripts/glue-5.0-provided-modules.txt), taken from AWS's documentation with its address. These tests compare the
two offline; the slow packaging test checks the built wheel's METADATA and a real resolution against PyPI.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from infra_support import MODULES, ROOT, locals_of, module_calls
from test_infra_package import _package

LIST = ROOT / "scripts" / "glue-5.0-provided-modules.txt"


def test_the_checked_in_list_is_aws_documented_glue_5_0() -> None:
    text = LIST.read_text()
    assert (
        "https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-python-libraries.html"
        "#glue-modules-provided" in text
    )
    assert "AWS Glue version 5.0" in text
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.]+", ln) for ln in lines), lines
    provided = _package().glue_provided()
    # What the refine job leans on, at the versions AWS documents for 5.0.
    assert {k: provided[k] for k in ("pyarrow", "pandas", "numpy", "boto3")} == {
        "pyarrow": "17.0.0",
        "pandas": "2.2.2",
        "numpy": "1.26.4",
        "boto3": "1.34.131",
    }


def test_the_wheel_requirements_pin_whatever_glue_provides_to_glue_own_version() -> None:
    package = _package()
    provided = package.glue_provided()
    requirements = package.glue_requirements(ROOT)
    names = set()
    for spec in requirements:
        req = package._requirement(spec)
        name = package._normalize_name(req.name)
        names.add(name)
        if name in provided:
            assert str(req.specifier) == f"=={provided[name]}", (spec, provided[name])
        assert name not in package.CLI_ONLY, spec
    declared = {
        package._normalize_name(package._requirement(s).name)
        for s in package.project_metadata(ROOT)["dependencies"]
    }
    assert names == declared - package.CLI_ONLY
    # pyarrow, pandas, numpy, boto3, requests come from Glue itself.
    assert {"pyarrow", "pandas", "numpy", "boto3", "requests"} <= names & set(provided)


def test_a_range_that_excludes_glue_version_is_refused(tmp_path: Path) -> None:
    package = _package()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\ndependencies = ["pyarrow>=18", "pydantic>=2"]\n'
    )
    with pytest.raises(package.PackageError, match="Glue 5.0 provides pyarrow 17.0.0"):
        package.glue_requirements(tmp_path)


def test_pins_that_replace_a_glue_module_are_conflicts() -> None:
    package = _package()
    assert package.glue_conflicts(["pydantic==2.12.5", "numpy==2.1.0", "pandas==2.2.2"]) == [
        "numpy==2.1.0 (Glue 5.0 provides 1.26.4)"
    ]


def test_glue_gets_the_wheel_and_the_manifest_pins_only() -> None:
    """--additional-python-modules = the wheel, then the manifest's glue_python_modules (then the tfvars')."""
    job = locals_of(MODULES / "glue_job" / "main.tf")
    modules = job["glue_arguments"]["--additional-python-modules"]
    assert "local.wheel_key" in modules and "var.extra_python_modules" in modules
    call = module_calls()["glue_job"]
    assert call["extra_python_modules"] == (
        "${concat(try(local.manifest.glue_python_modules, []), var.glue_extra_python_modules)}"
    )


def wheel_requirements(wheel: Path) -> list[str]:
    """The unconditional Requires-Dist of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(name).decode()
    return [
        ln.split(":", 1)[1].strip()
        for ln in text.split("\n\n", 1)[0].splitlines()
        if ln.startswith("Requires-Dist:") and "extra ==" not in ln
    ]
