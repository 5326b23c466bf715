"""The AWS Glue 5.0 entry script of the refine job (Spark 3.5, Python 3.11).

Glue runs this file with ``sys.argv`` = ``script --JOB_ID … --JOB_RUN_ID … --JOB_NAME … --dt …
--lake s3://… --mode … --catalog_database …``. Only here is ``awsglue`` imported;
everything else is the same ``b3lake.jobs.refine.job.run`` the local launcher calls, on the
Spark engine built from the GlueContext's session. The arguments are read by
``RefineArgs.from_argv`` (``jobs/refine/args.py``, the one declaration the trigger and Terraform
use too); storage and catalog are built from the lake's address (``storage_for``, ``catalog_for``:
S3 and the Glue Data Catalog for an ``s3://`` lake), never through ``b3lake.backends``, in the
region Terraform passes as ``--aws_region`` (a Glue special parameter it is not: the job reads
it here; without it the SDK's ``AWS_REGION``, else a ConfigError: never a guessed region).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from b3lake.catalog import Catalog
    from b3lake.storage import Storage

REGION_ARGUMENT = "--aws_region"


def job_region(argv: list[str]) -> str | None:
    """``--aws_region`` of the job's argv, else the SDK's region (ConfigError if none)."""
    import argparse

    from b3lake import awsclients

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument(REGION_ARGUMENT, dest="region", default=None)
    known, _ = parser.parse_known_args(argv[1:])
    return awsclients.region_for(None, known.region)


def lake_adapters(argv: list[str]) -> tuple[Storage, Catalog]:
    """The job's Storage and Catalog, from ``--lake`` and ``--catalog_database``, in the
    job's region for an S3 lake."""
    from b3lake.catalog import catalog_for
    from b3lake.jobs.refine.args import RefineArgs
    from b3lake.storage import storage_for

    args = RefineArgs.from_argv(argv)
    aws = {"region": job_region(argv)} if args.lake.startswith("s3://") else {}
    storage = storage_for(args.lake, **aws)
    return storage, catalog_for(storage, args.catalog_database, **aws)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    from b3lake.engines.spark import SparkEngine
    from b3lake.jobs.refine.args import RefineArgs
    from b3lake.jobs.refine.job import glue_run_id, run

    argv = list(sys.argv if argv is None else argv)
    # Glue validates the arguments it must have; the optional ones are read by RefineArgs.from_argv.
    glue_args = getResolvedOptions(argv, ["JOB_NAME", "lake"])
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(glue_args["JOB_NAME"], glue_args)

    args = RefineArgs.from_argv(argv)
    storage, catalog = lake_adapters(argv)
    engine = SparkEngine(glue_context.spark_session)
    try:
        report = run(
            args, engine=engine, storage=storage, catalog=catalog, run_id=glue_run_id(argv)
        ).to_dict()
    finally:
        engine.close()
    print(json.dumps({"refine_report": report}, default=str))
    job.commit()
    return report


if __name__ == "__main__":
    main()
