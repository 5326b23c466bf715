"""The refine job: one PySpark-API transform (``transform``), row checks (``quality``), output
contracts (``schemas``) and the entry point with all I/O (``job``)."""
