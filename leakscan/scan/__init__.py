"""Composition: per content (`content.py`: bytes -> classified occurrences), tree and staged scans,
and history (`history.py`: list every blob once -> scan each once (`blobs.py`) -> attribute)."""
