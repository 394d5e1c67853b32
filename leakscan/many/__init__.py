"""`scan-many`: the repository list, getting each repository (`clone.py`), one task per repository
(`task.py`), running the tasks and merging their findings (`run.py`), and the incremental state."""
