"""The Glue Studio visual job (requirement R5), kept as code and verified offline.

* :mod:`.dag` generates the job's ``CodeGenConfigurationNodes`` (the DAG Glue Studio draws) and the
  whole ``CreateJob`` request from the project's own contracts (``jobs.refine.schemas``, the
  transform's renames, the universe settings).
* :mod:`.validate` checks a DAG beyond what botocore checks client-side (node types, enum values,
  inputs, cycles, Glue's name patterns) and names the node at fault.
* :mod:`.interpret` executes the DAG's node types on our engines (SQLFrame/DuckDB, PySpark), so a
  test can compare the visual job's output with the code job's, row by row.
* :mod:`.deploy` creates or updates the job with boto3 and diffs a deployed job against the
  generator (what an edit in the console changed).

Nothing here imports a heavy library at import time.
"""
