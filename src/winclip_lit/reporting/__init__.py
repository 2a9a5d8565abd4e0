"""Pure presentation: plain data (metrics, curves, maps, rows) -> PNG, Markdown and CSV files."""
