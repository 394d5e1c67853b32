"""What every renderer is told besides the findings."""

from __future__ import annotations

from typing import NamedTuple

from leakscan.model import Severity


class RenderOptions(NamedTuple):
    show_secrets: bool = False
    color: bool = False
    fail_on: Severity | None = Severity.MEDIUM
    tool_version: str = ""
    show_suppressed: bool = (
        False  # text: a block per suppressed finding (--verbose), not one count line
    )
