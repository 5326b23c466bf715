"""Fixtures of the refine job tests (helpers live in ``refine_helpers``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The suite runs with --import-mode=importlib: make ``import refine_helpers`` work for this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def sqlframe_engine() -> Iterator[Any]:
    from b3lake.engines.sqlframe_duckdb import SQLFrameDuckDBEngine

    engine = SQLFrameDuckDBEngine()
    yield engine
    engine.close()
