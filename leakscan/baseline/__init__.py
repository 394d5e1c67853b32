"""The baseline: its file format (`file.py`) and the importers from gitleaks and detect-secrets."""
