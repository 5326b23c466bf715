"""Source adapters: one module per B3 data source (pure parsers plus HTTP clients)."""
