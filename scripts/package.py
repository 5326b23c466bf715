#!/usr/bin/env python3
"""Build the AWS artifacts of b3lake under dist/, reproducibly.

    .venv/bin/python scripts/package.py                      # everything (what `make package` runs)
    .venv/bin/python scripts/package.py --only trigger,glue  # a subset (offline: no PyPI needed)
    .venv/bin/python scripts/package.py --out /tmp/dist

What it writes (names are a contract with infra/, see dist/manifest.json):

    dist/b3lake-<version>-py3-none-any.whl  the package, given to Glue via --additional-python-modules; its
                                             requirements pin what Glue 5.0 provides to Glue's own versions
                                             (scripts/glue-5.0-provided-modules.txt) and leave out the CLI's
    dist/glue/glue_refine.py                 copy of src/b3lake/jobs/glue_refine.py, the Glue entry script
    dist/lambda/trigger.zip                  the b3lake sources only (the trigger needs stdlib + boto3)
    dist/lambda/extract.zip                  b3lake + the pure-Python dependencies that neither the Lambda runtime
                                             nor the AWS SDK for pandas layer (pyarrow, pandas, numpy) provide
    dist/manifest.json                       file names, sizes and sha256 of the above; the lake's tables (from
                                             b3lake.tables: name, location, partition keys, columns) and the refine
                                             job's default arguments (RefineArgs); read by infra/envs/dev (its catalog
                                             module defines the refined tables from it, the Glue job its defaults)

Reproducible: every zip has its entries sorted, a fixed timestamp (SOURCE_DATE_EPOCH, default 1980-01-01) and fixed
permissions, so two builds of the same sources give identical bytes. Network: only the wheel's isolated build
(setuptools from PyPI) and the extract zip's dependency downloads (PyPI) need it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]  # the project to package (--root overrides it)

# Artifact paths relative to the output folder. infra/ reads them from manifest.json; tests/infra checks them.
GLUE_SCRIPT_SOURCE = "src/b3lake/jobs/glue_refine.py"
GLUE_SCRIPT = "glue/glue_refine.py"  # also its key in the scripts bucket
TRIGGER_ZIP = "lambda/trigger.zip"
EXTRACT_ZIP = "lambda/extract.zip"
MANIFEST = "manifest.json"

ARTIFACTS = ("wheel", "glue", "trigger", "extract")

# The extract Lambda: the Python 3.11 x86_64 runtime and the AWS SDK for pandas managed layer.
LAMBDA_PLATFORM = "manylinux2014_x86_64"
LAMBDA_PYTHON = "3.11"
# Distributions the runtime (boto3 and its dependencies) or the layer (pyarrow, pandas, numpy) already provide.
PROVIDED_IN_LAMBDA = frozenset(
    {
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "urllib3",
        "python-dateutil",
        "six",
        "numpy",
        "pandas",
        "pyarrow",
    }
)
# Project dependencies only the CLI uses.
CLI_ONLY = frozenset({"typer", "rich"})
# Lambda's limit is 250 MB unzipped for the function and all its layers together (Lambda quotas, "Deployment
# package (.zip file archive) size"); the service counts it as 262,144,000 bytes ("Layers consume more than the
# available size of 262144000 bytes", its CreateFunction error). The AWS SDK for pandas layer is the largest part:
# its maintainers measured 154 MiB unzipped for the Python 3.9 x86_64 layer of 2.17
# (github.com/aws/aws-sdk-pandas/discussions/1727), and the 3.x layers for Python 3.11 grew (pyarrow 18, numpy 2;
# the zip alone is 50.5 MB for 3.11.0, its release asset awswrangler-layer-3.11.0-py3.11.zip). We budget the layer
# at 200 MiB, above both, which leaves the extract zip 50 MiB; docs/deploy.md's first deploy checklist says how
# to read the deployed layer's real size.
LAMBDA_UNZIPPED_LIMIT = 262_144_000
PANDAS_LAYER_UNZIPPED = 200 * 2**20
EXTRACT_UNZIPPED_BUDGET = LAMBDA_UNZIPPED_LIMIT - PANDAS_LAYER_UNZIPPED

# Glue 5.0 (Python 3.11, Amazon Linux 2023, x86_64) and the modules it provides, from AWS's documentation.
GLUE_PLATFORM = "manylinux2014_x86_64"
GLUE_PYTHON = "3.11"
GLUE_PROVIDED_LIST = Path(__file__).resolve().parent / "glue-5.0-provided-modules.txt"

DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip can store
FILE_MODE = 0o644
SKIP_DIRS = frozenset({"__pycache__"})
SKIP_SUFFIXES = (".pyc", ".pyo")


class PackageError(Exception):
    """A build step that failed; the message says which and why."""


# ---------------------------------------------------------------------------------------------------------------------
# Deterministic zips
# ---------------------------------------------------------------------------------------------------------------------
def _zip_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    t = time.gmtime(max(epoch, DEFAULT_EPOCH))
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec - t.tm_sec % 2)


def iter_tree(base: Path, prefix: str = "") -> list[tuple[str, Path]]:
    """(archive name, path) of every file under base, skipping caches; archive names use '/'."""
    found = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in filenames:
            if name.endswith(SKIP_SUFFIXES):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(base).as_posix()
            found.append((f"{prefix}{rel}", path))
    return found


def write_zip(entries: list[tuple[str, Path]], target: Path, epoch: int) -> None:
    """A zip whose bytes depend only on the entries' names and contents."""
    names = [name for name, _ in entries]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise PackageError(f"{target.name}: duplicate entries {sorted(duplicates)[:5]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    date_time = _zip_time(epoch)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | FILE_MODE) << 16  # regular file, rw-r--r--
            info.create_system = 3  # Unix, so the mode is honoured
            zf.writestr(
                info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9
            )
    tmp.replace(target)


def normalize_zip(path: Path, epoch: int) -> None:
    """Rewrite an existing zip (a wheel) with sorted entries and fixed timestamps; RECORD stays valid."""
    with zipfile.ZipFile(path) as zf:
        members = [(i.filename, zf.read(i.filename)) for i in zf.infolist() if not i.is_dir()]

    # Wheel convention: the .dist-info files come last, RECORD very last.
    def order(item: tuple[str, bytes]) -> tuple[int, str]:
        name = item[0]
        top = name.split("/", 1)[0]
        return (
            2 if name.endswith(".dist-info/RECORD") else 1 if top.endswith(".dist-info") else 0,
            name,
        )

    tmp = path.with_suffix(".tmp")
    date_time = _zip_time(epoch)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in sorted(members, key=order):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.external_attr = (0o100000 | FILE_MODE) << 16
            info.create_system = 3
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    tmp.replace(path)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------------------------------
def project_metadata(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def _run(
    cmd: list[str], what: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise PackageError(f"{what} failed (exit {result.returncode}): {' '.join(cmd)}\n{tail}")


def _build_env(epoch: int) -> dict[str, str]:
    env = dict(os.environ)
    env["SOURCE_DATE_EPOCH"] = str(epoch)
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return env


def build_wheel(root: Path, out: Path, epoch: int) -> Path:
    """`pip wheel . --no-deps` on a clean copy of the project (the work tree gets no build/ folder)."""
    meta = project_metadata(root)
    with tempfile.TemporaryDirectory(prefix="b3lake-wheel-") as tmp:
        work = Path(tmp) / "project"
        work.mkdir()
        for name in sorted(os.listdir(root)):
            path = root / name
            if path.is_file() and (
                name in {"pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in"}
                or name.upper().startswith(("README", "LICENSE", "LICENCE", "NOTICE"))
            ):
                shutil.copy2(path, work / name)
        shutil.copytree(
            root / "src",
            work / "src",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        wheels = Path(tmp) / "wheels"
        _run(
            [sys.executable, "-m", "pip", "wheel", str(work), "--no-deps", "-w", str(wheels), "-q"],
            "building the wheel",
            env=_build_env(epoch),
        )
        built = sorted(wheels.glob("b3lake-*-py3-none-any.whl"))
        if len(built) != 1:
            raise PackageError(
                f"expected one b3lake wheel, pip built {[p.name for p in wheels.iterdir()]}"
            )
        target = out / built[0].name
        if not target.name.startswith(f"b3lake-{meta['version']}-"):
            raise PackageError(f"wheel {target.name} does not carry the version {meta['version']}")
        for old in out.glob("b3lake-*-py3-none-any.whl"):
            old.unlink()
        shutil.copyfile(built[0], target)
    pin_wheel_requirements(target, glue_requirements(root))
    normalize_zip(target, epoch)
    return target


def build_glue_script(root: Path, out: Path) -> Path:
    source = root / GLUE_SCRIPT_SOURCE
    if not source.is_file():
        raise PackageError(f"the Glue entry script {GLUE_SCRIPT_SOURCE} does not exist")
    target = out / GLUE_SCRIPT
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def build_trigger_zip(root: Path, out: Path, epoch: int) -> Path:
    target = out / TRIGGER_ZIP
    write_zip(iter_tree(root / "src" / "b3lake", "b3lake/"), target, epoch)
    return target


def _normalize_name(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def extract_requirements(root: Path) -> list[str]:
    """The project's dependencies minus what Lambda provides and what only the CLI uses."""
    reqs = []
    for spec in project_metadata(root).get("dependencies", []):
        name = spec
        for sep in "<>=!~;[ ":
            name = name.split(sep, 1)[0]
        if _normalize_name(name) not in PROVIDED_IN_LAMBDA | CLI_ONLY:
            reqs.append(spec)
    return reqs


def glue_provided(path: Path = GLUE_PROVIDED_LIST) -> dict[str, str]:
    """Glue 5.0's provided modules, normalised name -> version, from the checked-in list."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            out[_normalize_name(name)] = version.strip()
    return out


def _requirement(spec: str) -> Any:
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pip's own copy
        from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    return Requirement(spec)


def glue_requirements(root: Path, provided: dict[str, str] | None = None) -> list[str]:
    """The Glue wheel's requirements: the project's dependencies without the CLI's, each one Glue 5.0
    provides pinned to exactly Glue's version (PackageError if that version is outside the project's
    range), the others as the project declares them."""
    provided = glue_provided() if provided is None else provided
    out = []
    for spec in project_metadata(root).get("dependencies", []):
        req = _requirement(spec)
        name = _normalize_name(req.name)
        if name in CLI_ONLY:
            continue
        if name in provided:
            version = provided[name]
            if not req.specifier.contains(version, prereleases=True):
                raise PackageError(
                    f"Glue 5.0 provides {req.name} {version}, outside pyproject's {spec!r}: pip would "
                    "replace Glue's own copy at every run; widen the range or pin another Glue version"
                )
            out.append(f"{req.name}=={version}")
        else:
            out.append(spec)
    return out


def glue_conflicts(pins: list[str], provided: dict[str, str] | None = None) -> list[str]:
    """The pins (name==version) that would make pip replace a module Glue 5.0 provides."""
    provided = glue_provided() if provided is None else provided
    bad = []
    for pin in pins:
        name, _, version = pin.partition("==")
        key = _normalize_name(name)
        if key in provided and provided[key] != version:
            bad.append(f"{pin} (Glue 5.0 provides {provided[key]})")
    return bad


def resolve_glue_dependencies(requirements: list[str], workdir: Path) -> list[str]:
    """What pip installs on Glue 5.0 for the wheel, resolved here for Glue's platform with every provided module
    constrained to Glue's version: name==version of each distribution Glue does not provide."""
    provided = glue_provided()
    constraints = workdir / "glue-constraints.txt"
    constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(provided.items())))
    report = workdir / "glue-report.json"
    _run(
        [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
            "--report", str(report), "--target", str(workdir / "unused-glue"),
            "--platform", GLUE_PLATFORM, "--python-version", GLUE_PYTHON,
            "--implementation", "cp", "--only-binary=:all:", "-c", str(constraints), *requirements,
        ],
        "resolving the Glue job's dependencies",
    )  # fmt: skip
    pins = []
    for item in json.loads(report.read_text())["install"]:
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        if _normalize_name(name) not in provided:
            pins.append(f"{name}=={version}")
    conflicts = glue_conflicts(pins, provided)
    if conflicts:
        raise PackageError(f"the Glue job would replace Glue 5.0's own modules: {conflicts}")
    return sorted(pins, key=str.lower)


def pin_wheel_requirements(wheel: Path, requirements: list[str]) -> None:
    """Replace the wheel's unconditional Requires-Dist lines (METADATA) with ``requirements``;
    RECORD gets METADATA's new hash and size. Extras' requirements are kept."""
    import base64

    with zipfile.ZipFile(wheel) as zf:
        members = {i.filename: zf.read(i.filename) for i in zf.infolist() if not i.is_dir()}
    meta_name = next(n for n in members if n.endswith(".dist-info/METADATA"))
    record_name = meta_name.replace("/METADATA", "/RECORD")
    lines = members[meta_name].decode().split("\n")
    header_end = lines.index("") if "" in lines else len(lines)
    header = [
        ln
        for ln in lines[:header_end]
        if not (ln.startswith("Requires-Dist:") and "extra ==" not in ln)
    ]
    at = next((i for i, ln in enumerate(header) if ln.startswith("Requires-Dist:")), len(header))
    header[at:at] = [f"Requires-Dist: {r}" for r in requirements]
    metadata = "\n".join(header + lines[header_end:]).encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(metadata).digest()).rstrip(b"=").decode()
    record = [
        f"{meta_name},sha256={digest},{len(metadata)}" if row.startswith(f"{meta_name},") else row
        for row in members[record_name].decode().splitlines()
    ]
    members[meta_name] = metadata
    members[record_name] = ("\n".join(record) + "\n").encode()
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    tmp.replace(wheel)


def resolve_extract_dependencies(requirements: list[str], workdir: Path) -> list[str]:
    """Resolve for the Lambda platform (metadata only), then keep what Lambda does not provide: name==version."""
    report = workdir / "report.json"
    _run(
        [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
            "--report", str(report), "--target", str(workdir / "unused"),
            "--platform", LAMBDA_PLATFORM, "--python-version", LAMBDA_PYTHON,
            "--implementation", "cp", "--only-binary=:all:", *requirements,
        ],
        "resolving the extract Lambda's dependencies",
    )  # fmt: skip
    resolved = json.loads(report.read_text())["install"]
    pins = []
    for item in resolved:
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        if _normalize_name(name) not in PROVIDED_IN_LAMBDA:
            pins.append(f"{name}=={version}")
    return sorted(pins, key=str.lower)


def build_extract_zip(root: Path, out: Path, epoch: int) -> tuple[Path, list[str], int]:
    with tempfile.TemporaryDirectory(prefix="b3lake-extract-") as tmp:
        work = Path(tmp)
        pins = resolve_extract_dependencies(extract_requirements(root), work)
        site = work / "site"
        _run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
                "--target", str(site), "--platform", LAMBDA_PLATFORM, "--python-version", LAMBDA_PYTHON,
                "--implementation", "cp", "--only-binary=:all:", *pins,
            ],
            "downloading the extract Lambda's dependencies",
            env=_build_env(epoch),
        )  # fmt: skip
        entries = [
            (name, path)
            for name, path in iter_tree(site)
            # pip's bookkeeping (INSTALLER, REQUESTED, direct_url.json) and scripts vary between machines.
            if not name.startswith("bin/")
            and not name.endswith(
                (".dist-info/INSTALLER", ".dist-info/REQUESTED", ".dist-info/direct_url.json")
            )
        ]
        entries += iter_tree(root / "src" / "b3lake", "b3lake/")
        unzipped = sum(path.stat().st_size for _, path in entries)
        if unzipped > EXTRACT_UNZIPPED_BUDGET:
            raise PackageError(
                f"extract.zip would unzip to {unzipped / 2**20:.1f} MB, over the "
                f"{EXTRACT_UNZIPPED_BUDGET / 2**20:.0f} MiB Lambda's {LAMBDA_UNZIPPED_LIMIT:,} bytes leave "
                f"next to the AWS SDK for pandas layer ({PANDAS_LAYER_UNZIPPED / 2**20:.0f} MiB budgeted)"
            )
        target = out / EXTRACT_ZIP
        write_zip(entries, target, epoch)
    return target, pins, unzipped


_DECLARATIONS = """
import json
import b3lake.tables as t
from b3lake.jobs.refine.args import RefineArgs
from b3lake.sources import registry
print(json.dumps({"tables": t.manifest(), "refine_arguments": RefineArgs.universe_arguments(),
                  "sources": list(registry.names())}))
"""


def declarations(root: Path) -> dict:
    """What infra/ reads from the code: the lake's tables (``b3lake.tables.manifest()``), the
    refine job's default data-changing arguments (``RefineArgs.universe_arguments()``) and the
    registered sources (``b3lake.sources.registry.names()``, what ``var.sources`` may name).

    Read in a child interpreter with only ``root/src`` on the path, so they are those of the
    sources being packaged (not of whatever b3lake this interpreter has installed); the tables
    and the arguments import nothing beyond the standard library, the registry only the sources'
    light modules (their parsers and clients load their libraries when called).
    """
    code = _DECLARATIONS
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(root / "src")
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-10:])
        raise PackageError(f"reading the declarations of {root / 'src'} failed:\n{tail}")
    return dict(json.loads(result.stdout))


def table_specs(root: Path) -> dict:
    """The lake's tables as the manifest carries them (``declarations(root)["tables"]``)."""
    return dict(declarations(root)["tables"])


def write_manifest(root: Path, out: Path, built: dict[str, Path], extra: dict) -> Path:
    """manifest.json: what infra/envs/dev uploads. Keeps the names of earlier builds of the other artifacts."""
    path = out / MANIFEST
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    meta = project_metadata(root)
    manifest.update(
        {
            "name": meta["name"],
            "version": meta["version"],
            "glue_script": GLUE_SCRIPT,
            "lambda": {"trigger": TRIGGER_ZIP, "extract": EXTRACT_ZIP},
            **declarations(root),
        }
    )
    manifest.setdefault("wheel", f"{meta['name']}-{meta['version']}-py3-none-any.whl")
    if "wheel" in built:
        manifest["wheel"] = built["wheel"].name
    files = manifest.get("files", {})
    for target in built.values():
        rel = target.relative_to(out).as_posix()
        files[rel] = {"sha256": sha256(target), "bytes": target.stat().st_size}
    manifest["files"] = dict(sorted(files.items()))
    manifest.update(extra)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def build(
    out: Path, only: tuple[str, ...] = ARTIFACTS, epoch: int | None = None, root: Path = ROOT
) -> dict[str, Path]:
    """Build the chosen artifacts of the project at root into out; returns artifact -> path (plus "manifest")."""
    if epoch is None:
        epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    unknown = set(only) - set(ARTIFACTS)
    if unknown:
        raise PackageError(
            f"unknown artifact(s) {sorted(unknown)}; choose from {', '.join(ARTIFACTS)}"
        )
    out.mkdir(parents=True, exist_ok=True)
    built: dict[str, Path] = {}
    extra: dict = {}
    if "glue" in only:
        built["glue"] = build_glue_script(root, out)
    if "trigger" in only:
        built["trigger"] = build_trigger_zip(root, out, epoch)
    if "wheel" in only:
        built["wheel"] = build_wheel(root, out, epoch)
        with tempfile.TemporaryDirectory(prefix="b3lake-glue-") as tmp:
            # What --additional-python-modules adds to the wheel: exact pins, none of Glue's own.
            extra["glue_python_modules"] = resolve_glue_dependencies(
                glue_requirements(root), Path(tmp)
            )
    if "extract" in only:
        built["extract"], pins, unzipped = build_extract_zip(root, out, epoch)
        extra["extract_dependencies"] = pins
        extra["extract_unzipped_bytes"] = unzipped
    built["manifest"] = write_manifest(root, out, dict(built), extra)
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: <root>/dist)"
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="project to package (default: this repository)"
    )
    parser.add_argument(
        "--only",
        default=",".join(ARTIFACTS),
        help=f"comma-separated subset of {','.join(ARTIFACTS)} (default: all)",
    )
    args = parser.parse_args(argv)
    only = tuple(a.strip() for a in args.only.split(",") if a.strip())
    root = args.root.resolve()
    out = (args.out or root / "dist").resolve()
    started = time.monotonic()
    try:
        built = build(out, only, root=root)
    except PackageError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    for name, path in built.items():
        print(f"{name:8} {path.relative_to(out)}  {path.stat().st_size / 1024:,.1f} KiB")
    print(f"built in {time.monotonic() - started:.1f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
