"""The lake: its key layout, its storage backends and the raw writer."""
