"""The PySpark-API refine functions of the tables that refine themselves (``TableSpec.refine``
names them as ``"b3lake.tables.transforms.<module>:<function>"``).

Kept apart from the specs: ``b3lake.tables`` is read by the trigger Lambda (stdlib and boto3
only), these modules reach the engines. Nothing in ``b3lake.tables`` imports them; the job does,
through the spec, when it refines.
"""
