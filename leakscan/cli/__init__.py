"""The command line: the click app (`app.py`), the click-free `scan` (`fast.py`), both building one
`ScanRequest`; and the terminal (`console.py`), the only place that prints and picks exit codes."""
