"""The flags gitleaks users type (issue 21): short forms, gitleaks' names, shell completion, colour."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from leakscan.cli.app import cli
from leakscan.cli.fast import parse_scan
from leakscan.commands.scan import use_color
from leakscan.request import ScanRequest
from tests import keys
from tests.conftest import LEAKSCAN, plant, run

NOTE = "leakscan: note: --redact is not needed"


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def params(*names: str, argv: list[str]) -> dict[str, object]:
    """The parameters click gives the command at path `names` for `argv`."""
    command: click.Command = cli
    for name in names:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command.make_context(names[-1], argv).params


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    plant(tmp_path, "a.py", f"K = '{keys.key()}'\n")
    return tmp_path


# --- short flags and gitleaks' names -------------------------------------------------------------


def test_short_flags_are_the_long_ones(tmp_path: Path):
    (tmp_path / "c.yaml").write_text("fail-on: high\n")
    short = ["scan", "-f", "json", "-c", "c.yaml", "-b", "b.json", "-o", "r.json"]
    long = ["scan", "--format", "json", "--config", "c.yaml", "--baseline", "b.json", "--output",
            "r.json"]  # fmt: skip
    aliases = ["scan", "--report-format", "json", "--config", "c.yaml", "-b", "b.json",
               "--report-path", "r.json"]  # fmt: skip
    os.chdir(tmp_path)
    expected = ScanRequest(
        fmt="json", config_path="c.yaml", baseline_path="b.json", output="r.json"
    )
    for argv in (short, long, aliases):
        assert ScanRequest(**params("scan", argv=argv[1:])) == expected
        assert parse_scan(argv) == expected  # the fast parser knows them too


def test_short_flags_end_to_end(leaky: Path):
    result = run("scan", str(leaky), "-f", "json", "-q")
    assert result.exit_code == 1 and json.loads(result.stdout)["findings"]
    out = leaky / "r.sarif"
    result = run("scan", str(leaky / "a.py"), "--report-format", "sarif", "--report-path", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(out.read_text())["version"] == "2.1.0"


@pytest.mark.parametrize("command", [("ci", "github"), ("hook", "pre-push"), ("scan-many",)])
def test_the_other_commands_take_the_short_flags(command: tuple[str, ...]):
    argv = ["-f", "json", "-c", "c.yaml", "--report-path", "x"]
    argv += ["src"] if command == ("scan-many",) else ["-b", "b.json", "--redact"]
    got = params(*command, argv=argv)
    assert (got["fmt"], got["config_path"], got["output"]) == ("json", "c.yaml", "x")
    if command != ("scan-many",):
        assert got["baseline_path"] == "b.json" and got["redact"] is True


def test_version_short_flag():
    assert invoke("-V").stdout == invoke("--version").stdout
    assert invoke("-V").stdout.startswith("leakscan, version ")
    proc = subprocess.run([*LEAKSCAN, "-V"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("leakscan, version ")


def test_help_shows_short_flags_and_hides_gitleaks_names():
    text = invoke("scan", "--help").stdout
    for shown in ("-f, --format", "-c, --config FILE", "-b, --baseline FILE", "-o, --output FILE"):
        assert shown in text
    for hidden in ("--redact", "--report-path", "--report-format"):
        assert hidden not in text
    assert "-V, --version" in invoke("--help").stdout


def test_config_is_a_file_path(tmp_path: Path):
    result = invoke("scan", str(tmp_path), "-c", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr
    missing = tmp_path / "missing.yaml"
    result = invoke("scan", str(tmp_path), "--config", str(missing))
    assert result.exit_code == 2
    assert "missing.yaml: cannot read the config file" in result.stderr  # as before issue 21


def test_redact_is_a_noop_with_a_note(leaky: Path):
    plain = run("scan", str(leaky), "--no-color")
    redacted = run("scan", str(leaky), "--no-color", "--redact")
    assert (redacted.exit_code, redacted.stdout) == (plain.exit_code, plain.stdout)
    assert redacted.stderr.count(NOTE) == 1 and NOTE not in plain.stderr
    assert NOTE not in run("scan", str(leaky), "--redact", "-q").stderr
    proc = subprocess.run([*LEAKSCAN, "scan", str(leaky), "--redact", "--no-progress"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 1 and NOTE in proc.stderr


# --- shell completion ----------------------------------------------------------------------------

MARKERS = {
    "bash": "complete -o nosort -F _leakscan_completion leakscan",
    "zsh": "#compdef leakscan",
    "fish": "complete --no-files --command leakscan",
}


@pytest.mark.parametrize("shell", sorted(MARKERS))
def test_completion_prints_clicks_script(shell: str):
    result = invoke("completion", shell)
    assert result.exit_code == 0
    assert "_LEAKSCAN_COMPLETE" in result.stdout and MARKERS[shell] in result.stdout
    env = {**os.environ, "_LEAKSCAN_COMPLETE": f"{shell}_source"}
    proc = subprocess.run([*LEAKSCAN], capture_output=True, text=True, env=env)
    assert proc.stdout.strip() == result.stdout.strip()  # what click prints for the variable


def test_completion_refuses_other_shells():
    result = invoke("completion", "powershell")
    assert result.exit_code == 2 and "bash" in result.stderr


def test_the_script_completes_commands_and_options():
    env = {**os.environ, "_LEAKSCAN_COMPLETE": "bash_complete", "COMP_WORDS": "leakscan scan --for",
           "COMP_CWORD": "2"}  # fmt: skip
    proc = subprocess.run([*LEAKSCAN], capture_output=True, text=True, env=env)
    assert "plain,--format" in proc.stdout.splitlines()


# --- colour --------------------------------------------------------------------------------------

PRECEDENCE = [
    # flags, environment, tty -> colour. The flag decides, then NO_COLOR, then FORCE_COLOR, then tty.
    ({}, {}, True, True),
    ({}, {}, False, False),
    ({"color": "always"}, {"NO_COLOR": "1"}, False, True),
    ({"color": "never"}, {"FORCE_COLOR": "1"}, True, False),
    ({"no_color": True}, {"FORCE_COLOR": "1"}, True, False),
    ({"no_color": True, "color": "always"}, {}, True, False),  # never wins over always
    ({}, {"NO_COLOR": "1"}, True, False),
    ({}, {"NO_COLOR": ""}, True, True),  # empty: not set (no-color.org)
    ({}, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
    ({}, {"FORCE_COLOR": "1"}, False, True),
    ({}, {"FORCE_COLOR": "0"}, False, True),  # any non-empty value (force-color.org)
    ({}, {"FORCE_COLOR": ""}, False, False),
    ({}, {"CLICOLOR_FORCE": "1"}, False, True),
    ({}, {"CLICOLOR_FORCE": "0"}, False, False),  # 0: not forced (bixense.com/clicolors)
    ({}, {"CLICOLOR_FORCE": ""}, False, False),
    ({"fmt": "json", "color": "always"}, {}, True, False),  # machine formats: never
    ({"output": "r.txt", "color": "always"}, {"FORCE_COLOR": "1"}, True, False),  # files: never
]


@pytest.mark.parametrize(("flags", "env", "tty", "expected"), PRECEDENCE)
def test_colour_precedence(flags: dict[str, object], env: dict[str, str], tty: bool,
                           expected: bool):  # fmt: skip
    assert use_color(ScanRequest(**flags), env, tty) is expected  # type: ignore[arg-type]


def test_colour_end_to_end(leaky: Path):
    def coloured(*args: str, **env: str | None) -> bool:
        result = invoke("scan", str(leaky), *args, env={"NO_COLOR": None, **env})
        assert result.exit_code == 1
        return "\033[" in result.stdout

    assert not coloured()  # CliRunner's stdout is not a terminal
    assert coloured("--color=always", NO_COLOR="1")
    assert coloured(FORCE_COLOR="1") and coloured(CLICOLOR_FORCE="1")
    assert not coloured(FORCE_COLOR="1", NO_COLOR="1")
    assert coloured(FORCE_COLOR="1", NO_COLOR="")
    assert not coloured("--no-color", FORCE_COLOR="1")
    assert not coloured("--color", "never", FORCE_COLOR="1")


def test_forced_colour_through_the_fast_path(leaky: Path):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    for args, extra in ((["--color", "always"], {}), ([], {"FORCE_COLOR": "1"})):
        proc = subprocess.run([*LEAKSCAN, "scan", str(leaky), "--no-progress", *args],
                              capture_output=True, text=True, env={**env, **extra})  # fmt: skip
        assert proc.returncode == 1 and "\033[" in proc.stdout
    assert parse_scan(["scan", "--color", "always"]) == ScanRequest(color="always")
    assert parse_scan(["scan", "--color", "ALWAYS"]) is None  # click says why
