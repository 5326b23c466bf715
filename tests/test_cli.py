"""The CLI as a user meets it: help with examples, one-line errors, exit codes.

Every test but one runs the CLI in this process (the ``run_cli`` fixture of tests/conftest.py:
``cli.main`` with its exit code and output); ``test_the_installed_entry_point_in_a_fresh_process``
runs ``python -m b3lake.cli`` as a user's shell would, once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import b3lake

# The subprocess runs the code under test (this checkout's src/, not another install).
SRC = str(Path(b3lake.__file__).resolve().parents[1])
COMMANDS = [
    ["run"],
    ["extract", "cotahist"],
    ["extract", "ibov"],
    ["extract", "yfinance"],
    ["refine"],
    ["query"],
    ["runs"],
    ["catalog"],
    ["report"],
]


def b3lake_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "b3lake.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(cwd), "PYTHONPATH": SRC},
        timeout=120,
    )


def test_the_installed_entry_point_in_a_fresh_process(tmp_path: Path) -> None:
    """The one subprocess test: help exits 0, an error is one line on stderr and exits 1."""
    out = b3lake_process("run", "--help", cwd=tmp_path)
    assert out.returncode == 0 and "Example" in out.stdout, out.stderr
    out = b3lake_process("--lake", str(tmp_path / "lake"), "catalog", "nope", cwd=tmp_path)
    assert out.returncode == 1, (out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "unknown table" in lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command: list[str], run_cli: Any) -> None:
    out = run_cli(*command, "--help")
    assert out.returncode == 0, out.stderr
    assert "Example" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["extract", "cotahist", "--file", "missing.zip"], "missing.zip: file not found"),
        (["query", "SELECT * FROM no_such_table"], "no_such_table"),
        (["catalog", "no_such_table"], "unknown table"),
        (["refine", "--dt", "2021-13-01"], "--dt"),
        (["--backend", "gcp", "runs"], "backend"),
    ],
)
def test_errors_are_one_line_and_exit_1(
    tmp_path: Path, args: list[str], message: str, run_cli: Any
) -> None:
    out = run_cli("--lake", str(tmp_path / "lake"), *args, cwd=tmp_path)
    assert out.returncode == 1, (out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr
    assert message in lines[0]
    assert "Traceback" not in out.stderr


def test_debug_shows_the_traceback(tmp_path: Path, run_cli: Any) -> None:
    out = run_cli("--debug", "--lake", str(tmp_path), "catalog", "nope", cwd=tmp_path)
    assert out.returncode == 1
    assert "Traceback" in out.stderr


def test_run_lands_every_sources_files_and_refines_them(tmp_path: Path, run_cli: Any) -> None:
    fixtures = Path(__file__).resolve().parent / "fixtures"
    out = run_cli(
        "--lake",
        str(tmp_path / "lake"),
        "run",
        "--file",
        str(fixtures / "cotahist" / "COTAHIST_D04012016.TXT"),
        "--ibov-file",
        str(fixtures / "ibov" / "IBOVDia_03-10-25.csv"),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "cotahist: 1,743 rows read, 1 session(s), 1 raw object(s) written" in out.stdout
    assert "ibov_portfolio: 82 rows read, 1 session(s), 1 raw object(s) written" in out.stdout
    assert "2 refine job run(s) started by the trigger handler" in out.stdout
