"""The engine: bytes in, matches out. Required literals (`literals.py`) and the prefilter, the rule
regexes (`engine.py`), which bytes to read as text (`text.py`), decoded views (`decode.py`), keys
joined from pieces (`joined.py`), matches in views (`views.py`), and line/column (`lines.py`). The one
place where speed tricks live, each with its measured reason."""
