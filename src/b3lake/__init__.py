"""b3lake: a data-lake pipeline for B3 market data, from laptop to AWS by the same code."""

__version__ = "0.1.0"
