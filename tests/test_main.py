"""The click-free `scan` of main.py parses exactly what click parses, or leaves the line to click."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leakscan.cli.app import cli
from leakscan.cli.fast import SCAN_OPTIONS, parse_scan
from leakscan.request import ScanRequest
from tests import keys
from tests.conftest import LEAKSCAN, commit_file, git, make_repo, run

SCAN = cli.commands["scan"]


def click_parse(argv: list[str]) -> ScanRequest | None:
    """The request click builds for the `scan` command, or None when click refuses the line."""
    try:
        ctx = SCAN.make_context("scan", list(argv[1:]), resilient_parsing=False)
    except (click.exceptions.ClickException, click.exceptions.Exit):
        return None
    return ScanRequest(**ctx.params)


def test_the_table_is_clicks_scan_command():
    """Same options, same flags, same defaults: adding an option to one without the other fails."""
    options = [p for p in SCAN.params if isinstance(p, click.Option)]
    assert {o.name: sorted(o.opts + o.secondary_opts) for o in options} == {
        o.dest: sorted(o.flags) for o in SCAN_OPTIONS
    }
    assert parse_scan(["scan"]) == click_parse(["scan"])


HOOK_LINES = [
    # what .pre-commit-hooks.yaml, the README, the Action and the benchmarks run
    ["scan", "--no-color", "--no-progress", "a.py", "docs/b.md"],
    ["scan", "--staged", "--format", "json", "-o", "out.json", "-q"],
    ["scan", "TREE", "--format", "json", "-o", "out.json", "-q", "--show-secrets", "--no-progress"],
    ["scan", "--history", ".", "--format=sarif", "--output=x.sarif", "--fail-on", "HIGH"],
    ["scan", "--range", "main..HEAD", "-j", "2", "-v", "--rules", "a.yaml", "--rules", "b.yaml"],
    ["scan", "--since", "v1", "--max-file-size", "1MiB", "--rule-timeout", "0.5", "--no-baseline"],
    ["scan", ".", "--verify", "--verify-timeout", "2", "--verify-max-requests", "0",
     "--verify-concurrency", "16", "--stripe-context", "acct_1", "--report-stale"],
    ["scan", "--config", "c.yaml", "--include-ignored", "--baseline", "base.json", "-"],
    # gitleaks' habits (issue 21)
    ["scan", "-c", "c.yaml", "-b", "base.json", "-f", "json", "--redact", "--color", "always"],
    ["scan", "--report-format=sarif", "--report-path=x.sarif", "--color=never", "--no-color"],
]  # fmt: skip


@pytest.mark.parametrize("argv", HOOK_LINES, ids=lambda a: " ".join(a[:3]))
def test_common_command_lines_skip_click_and_parse_alike(argv: list[str], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    fast = parse_scan(argv)
    assert fast is not None
    assert fast == click_parse(argv)


LEFT_TO_CLICK = [
    ["scan", "--help"],
    ["scan", "-qv"],  # combined short flags
    ["scan", "--", "-odd-name"],
    ["scan", "--jobs", "0"],  # click says why
    ["scan", "--format", "xml"],
    ["scan", "--history=yes"],
    ["scan", "-o"],  # a value is missing
    ["scan", "-o", "--quiet"],
    ["scan", "--output", "."],  # a directory
    ["scan", "--verify-concurrency", "17"],
    ["scan", "--nope"],
    ["scan", "-f=json"],  # click reads the value "=json"
    ["scan", "--color", "ALWAYS"],
    ["scan", "--config", "."],  # a directory
    ["baseline", "."],
    ["--version"],
    [],
]


@pytest.mark.parametrize("argv", LEFT_TO_CLICK, ids=" ".join)
def test_anything_else_is_left_to_click(argv: list[str]):
    assert parse_scan(argv) is None


TOKENS = st.sampled_from(
    [flag for o in SCAN_OPTIONS for flag in o.flags]
    + ["json", "JSON", "xml", "text", "high", "Never", "0", "1", "17", "-1", "0.001", "2.5", "nan",
       "inf", "1_0", " 3", "a.py", "", "-", "--", "-x", "-qv", ".", "missing/dir", "=", "--format=json",
       "--jobs=2", "-j=2", "always", "ALWAYS", "--color=auto", "--quiet=1", "--rules=", "scan", "HEAD~1..HEAD"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=8))
def test_whenever_the_fast_parser_answers_it_is_clicks_answer(tokens: list[str]):
    argv = ["scan", *tokens]
    fast = parse_scan(argv)
    if fast is not None:
        assert fast == click_parse(argv)


def _leakscan(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed `leakscan` entry point, reporting whether it imported click, PyYAML or
    pathlib (paths are strings on the scan path). An editable install's finder imports pathlib before leakscan does,
    so it is dropped from `sys.modules` first: only an import by leakscan brings it back."""
    code = (
        "import atexit, sys\n"
        "sys.modules.pop('pathlib', None)\n"
        "atexit.register(lambda: print('imported:', sorted(m for m in ('click', 'yaml', "
        "'pathlib') if m in sys.modules), file=sys.stderr))\n"
        "from leakscan.cli.fast import main\n"
        f"sys.argv = ['leakscan', *{args!r}]\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "LEAKSCAN_CONFIG")}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env=env)  # fmt: skip


def test_a_staged_scan_imports_no_click_yaml_or_pathlib_and_says_what_click_says(tmp_path: Path):
    repo = make_repo(tmp_path / "repo")
    commit_file(repo, "README.md", "hello\n")
    key = keys.key("secret", "live")
    (repo / "settings.py").write_text(f'STRIPE_KEY = "{key}"\n')
    git(repo, "add", "settings.py")
    cases = [
        ["scan", "--staged", "--no-progress"],
        ["scan", "--staged", "--format", "json", "--no-progress"],
        ["scan", "settings.py", "README.md", "--no-color", "--no-progress"],
        ["scan", ".", "--no-color", "--no-progress"],
        ["scan", "no-such-file", "--no-progress"],
        ["scan", "--staged", "--history"],
    ]
    for args in cases:
        fast = _leakscan(args, repo)
        assert fast.stderr.endswith("imported: []\n"), (args, fast.stderr)
        stderr = fast.stderr.removesuffix("imported: []\n")
        cwd = Path.cwd()
        os.chdir(repo)
        try:
            slow = run(*args)
        finally:
            os.chdir(cwd)
        assert (fast.returncode, fast.stdout, stderr) == (slow.exit_code, slow.stdout, slow.stderr)
        assert key not in fast.stdout + fast.stderr


def test_other_commands_still_reach_click(tmp_path: Path):
    proc = _leakscan(["rules", "list"], tmp_path)
    assert proc.returncode == 0 and "stripe.secret-key.live" in proc.stdout
    assert "'click'" in proc.stderr
    proc = _leakscan(["scan", "--jobs", "0"], tmp_path)
    assert proc.returncode == 2 and "--jobs" in proc.stderr


def test_an_ascii_stdout_gets_utf8_as_click_gives_it(tmp_path: Path):
    (tmp_path / "café.txt").write_text(f"K = '{keys.key('secret', 'test')}'\n")
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    proc = subprocess.run([*LEAKSCAN, "scan", str(tmp_path), "--format", "json",
                           "--no-progress", "-q"], capture_output=True, env=env)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "café.txt" in proc.stdout.decode("utf-8")
