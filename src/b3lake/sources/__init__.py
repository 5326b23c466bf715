"""Sources: one declaration each (see :mod:`b3lake.sources.base`), listed once in
:mod:`b3lake.sources.registry`; plus the shared helpers (``http``, ``numbers``, ``calendar``)."""
