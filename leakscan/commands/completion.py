"""The `completion` command: the shell script that makes `leakscan <TAB>` complete, from click."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")


def completion_script(command: click.Command, shell: str) -> str:
    """What `_LEAKSCAN_COMPLETE={shell}_source leakscan` prints: the script calls `leakscan` back
    with `_LEAKSCAN_COMPLETE={shell}_complete` set, and click answers with the candidates. The
    name is the installed command's, whatever ran this one (`python -m leakscan`, a test)."""
    cls = get_completion_class(shell)
    if cls is None:  # click.Choice(SHELLS) lets only click's own shells through
        raise click.BadParameter(f"no completion for {shell}")
    script = cls(command, {}, "leakscan", "_LEAKSCAN_COMPLETE").source()
    return script if script.endswith("\n") else script + "\n"
