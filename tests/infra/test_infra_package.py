"""scripts/package.py: the artifacts infra/ uploads, built reproducibly (two builds give identical bytes).

Each build runs on a snapshot of the project (pyproject.toml, README, src/) so edits to the work tree during the
test cannot make two builds differ. The trigger zip and the Glue script build offline; the wheel (isolated build:
setuptools from PyPI) and the extract zip (dependency downloads from PyPI) need the package index and are marked slow.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from infra_support import ROOT

GLUE_SOURCE = ROOT / "src" / "b3lake" / "jobs" / "glue_refine.py"


def _package() -> Any:
    spec = importlib.util.spec_from_file_location(
        "b3lake_package_script", ROOT / "scripts" / "package.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, root / name)
    shutil.copytree(
        ROOT / "src",
        root / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    return root


def _build_twice(snapshot: Path, tmp_path: Path, only: tuple[str, ...]) -> tuple[dict, dict]:
    package = _package()
    first = package.build(tmp_path / "out1", only, root=snapshot)
    second = package.build(tmp_path / "out2", only, root=snapshot)
    return first, second


def test_trigger_zip_is_reproducible_and_holds_only_the_package(
    snapshot: Path, tmp_path: Path
) -> None:
    first, second = _build_twice(snapshot, tmp_path, ("trigger",))
    a, b = first["trigger"].read_bytes(), second["trigger"].read_bytes()
    assert a == b, "two builds of trigger.zip differ"
    with zipfile.ZipFile(first["trigger"]) as zf:
        names = zf.namelist()
        infos = zf.infolist()
    assert names == sorted(names)
    assert all(n.startswith("b3lake/") for n in names)
    assert "b3lake/lambdas/trigger.py" in names and "b3lake/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    sources = sorted(
        p.relative_to(snapshot / "src").as_posix()
        for p in (snapshot / "src" / "b3lake").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    assert names == sources


def test_glue_script_is_a_copy_of_the_entry_script(snapshot: Path, tmp_path: Path) -> None:
    assert GLUE_SOURCE.is_file(), (
        "src/b3lake/jobs/glue_refine.py (the Glue entry script) does not exist"
    )
    first, second = _build_twice(snapshot, tmp_path, ("glue",))
    assert first["glue"] == tmp_path / "out1" / "glue" / "glue_refine.py"
    assert (
        first["glue"].read_bytes()
        == (snapshot / "src" / "b3lake" / "jobs" / "glue_refine.py").read_bytes()
    )
    assert first["manifest"].read_bytes() == second["manifest"].read_bytes()


def test_manifest_names_what_infra_reads(snapshot: Path, tmp_path: Path) -> None:

    package = _package()
    built = package.build(tmp_path / "out", ("trigger",), root=snapshot)
    manifest = json.loads(built["manifest"].read_text())
    assert manifest["glue_script"] == "glue/glue_refine.py"
    assert manifest["lambda"] == {"trigger": "lambda/trigger.zip", "extract": "lambda/extract.zip"}
    assert manifest["wheel"] == f"b3lake-{manifest['version']}-py3-none-any.whl"
    assert manifest["files"]["lambda/trigger.zip"]["sha256"] == package.sha256(built["trigger"])


def test_unknown_artifact_is_refused(tmp_path: Path) -> None:
    package = _package()
    with pytest.raises(package.PackageError, match="unknown artifact"):
        package.build(tmp_path / "out", ("nope",))


@pytest.mark.slow
def test_wheel_is_reproducible(snapshot: Path, tmp_path: Path) -> None:
    first, second = _build_twice(snapshot, tmp_path, ("wheel",))
    assert first["wheel"].name == second["wheel"].name
    assert first["wheel"].name.startswith("b3lake-") and first["wheel"].name.endswith(
        "-py3-none-any.whl"
    )
    assert first["wheel"].read_bytes() == second["wheel"].read_bytes(), "two wheel builds differ"
    with zipfile.ZipFile(first["wheel"]) as zf:
        names = zf.namelist()
    assert "b3lake/lambdas/trigger.py" in names
    assert names[-1].endswith(".dist-info/RECORD")
    # Glue's runtime (tests/infra/test_glue_runtime.py): the built wheel's requirements are
    # glue_requirements and no pin of the manifest replaces a module Glue 5.0 provides; the same
    # of dist/ when a `make package` left one there.
    from test_glue_runtime import wheel_requirements

    package = _package()
    outs = [first["manifest"].parent]
    if (ROOT / "dist" / "manifest.json").is_file():
        outs.append(ROOT / "dist")
    for out in outs:
        manifest = json.loads((out / "manifest.json").read_text())
        assert package.glue_conflicts(manifest.get("glue_python_modules", [])) == [], out
        wheel = out / manifest["wheel"]
        if wheel.is_file():
            assert wheel_requirements(wheel) == package.glue_requirements(snapshot), out


@pytest.mark.slow
def test_extract_zip_is_reproducible_and_fits_lambda(snapshot: Path, tmp_path: Path) -> None:
    package = _package()
    first, second = _build_twice(snapshot, tmp_path, ("extract",))
    assert first["extract"].read_bytes() == second["extract"].read_bytes(), (
        "two builds of extract.zip differ"
    )
    with zipfile.ZipFile(first["extract"]) as zf:
        names = zf.namelist()
        unzipped = sum(i.file_size for i in zf.infolist())
    tops = {n.split("/", 1)[0] for n in names}
    # b3lake and the pure-Python dependencies the layer lacks ...
    assert {
        "b3lake",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "exchange_calendars",
    } <= tops
    # ... pydantic_core as the manylinux x86_64 CPython 3.11 build ...
    assert any(
        n.startswith("pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu") for n in names
    )
    # ... and nothing the runtime or the AWS SDK for pandas layer provides.
    assert not tops & {"numpy", "pandas", "pyarrow", "boto3", "botocore"}
    assert unzipped <= package.EXTRACT_UNZIPPED_BUDGET
