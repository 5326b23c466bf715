"""Jobs the pipeline runs: ``refine`` (raw Parquet -> refined tables), on Glue or in-process."""
