"""One module per command: what `scan`, `baseline`, `scan-many`, `rules` and the CI commands do with
a `ScanRequest`, from settings to an exit code."""
