"""The refine job's pure transforms (PySpark DataFrame API, any engine), one module per step:
``quotes`` (refined_quotes, the history layer's rows, refined_monthly), ``portfolio``
(refined_ibov_portfolio), ``corporate_actions`` (events, factors, findings). Their I/O lives in
the step of the same name (``jobs/refine/steps/``)."""
