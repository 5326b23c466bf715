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


@pytest.fixture(scope="module")
def spark_engine() -> Iterator[Any]:
    """A module-scoped local[2] Spark engine; fails (never skips) without pyspark or Java."""
    from b3lake.engines.spark import SparkEngine, local_spark

    spark = local_spark("b3lake-tests")
    engine = SparkEngine(spark)
    yield engine
    engine.close()
    spark.stop()
