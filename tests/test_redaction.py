"""No raw key escapes: every command, format, log line, error, repr and the progress bar, unless
--show-secrets. Formats come from RENDERERS, so a new renderer is checked the day it is added."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import pty
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import leakscan
from leakscan import findings, model
from leakscan.match import engine as match
from leakscan.model import Blob
from leakscan.report import RENDERERS
from leakscan.scan import content as scan
from tests import keys
from tests.conftest import (
    LEAKSCAN,
    SETTINGS,
    commit_file,
    git,
    make_repo,
    read_terminal,
    run,
    sha256,
)


def every_kind() -> list[str]:
    return [keys.key(kind, mode) for kind, mode in keys.PREFIXES] + [
        keys.webhook(),
        keys.webhook(True),
    ]


KEYS = every_kind()
# The key whose hash the config allows, and the one behind an inline allow comment: they are not
# failing findings, but they must not be printed either.
ALLOWED, INLINE = KEYS[0], KEYS[1]


def leaked(text: str) -> list[str]:
    return [k[:12] + "…" for k in KEYS if k in text]


def plant_everything(root: Path) -> Path:
    """A repository whose tree and history hold a key of every kind, in plain text and UTF-16."""
    repo = make_repo(root)
    body = "\n".join(f"KEY_{i} = '{k}'" for i, k in enumerate(KEYS[2:]))
    commit_file(repo, "config/settings.py", body + f"\nALLOWED = '{ALLOWED}'\n")
    commit_file(repo, "app.py", f"K = '{INLINE}'  # leakscan:allow\n")
    (repo / "utf16.txt").write_bytes(f"K={KEYS[2]}\n".encode("utf-16"))
    commit_file(repo, "gone.env", f"OLD={KEYS[3]}\n")
    git(repo, "rm", "-q", "gone.env")
    git(repo, "commit", "-q", "-m", "remove")
    (repo / "untracked.env").write_text(f"NEW={KEYS[4]}\n")
    sha = sha256(ALLOWED)
    (repo / ".leakscan.yaml").write_text(f"allow-secrets: [{sha}]\n")
    return repo


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plant_everything(tmp_path_factory.mktemp("redaction") / "repo")


SCANS = [[], ["--history"], ["--history", "--unreachable"], ["--range", "HEAD~2..HEAD"]]
EXTRAS = [[], ["-v"], ["-q"], ["--fail-on", "never"]]


@pytest.mark.parametrize("fmt", list(RENDERERS))
@pytest.mark.parametrize("scan_args", SCANS, ids=lambda a: " ".join(a) or "worktree")
def test_no_format_or_scan_prints_a_key(
    planted: Path, tmp_path: Path, fmt: str, scan_args: list[str]
):
    for extra in EXTRAS:
        result = run("scan", str(planted), *scan_args, "--format", fmt, *extra)
        assert result.exit_code in (0, 1), result.stderr
        assert leaked(result.stdout + result.stderr) == [], (fmt, scan_args, extra)
    out = tmp_path / f"report.{fmt}"
    result = run("scan", str(planted), *scan_args, "--format", fmt, "-o", str(out), "-v")
    assert leaked(out.read_text() + result.stdout + result.stderr) == []


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_show_secrets_prints_them_so_the_check_above_can_fail(planted: Path, fmt: str):
    result = run("scan", str(planted), "--history", "--format", fmt, "--show-secrets", "-v")
    assert len(leaked(result.stdout)) == len(KEYS)


@pytest.mark.parametrize("fmt", ["html", "gitlab"])
def test_html_and_gitlab_reports_never_hold_a_key_even_with_show_secrets(
    planted: Path, tmp_path: Path, fmt: str
):
    """Files meant to be attached to tickets and merge requests: always redacted (issue 19)."""
    out = tmp_path / f"report.{fmt}"
    result = run("scan", str(planted), "--history", "--format", fmt, "--show-secrets", "-o",
                 str(out))  # fmt: skip
    assert result.exit_code == 1 and leaked(out.read_text()) == []
    assert "…" in out.read_text()  # the previews are there


def test_archive_image_and_binary_scans_print_no_key(tmp_path: Path):
    """Keys inside archives, an image layer, a binary's UTF-16 strings, next to hostile members
    (the warning line and --verbose's skip lines): no format shows one, --show-secrets all."""
    from tests.archive_kit import apk, docker_save, mark_encrypted, tar_bytes, zip_bytes

    layer = tar_bytes([("app/.env", f"K={KEYS[2]}\n".encode())])
    (tmp_path / "image.tar").write_bytes(docker_save([layer]))
    (tmp_path / "app.apk").write_bytes(apk(KEYS[3]))
    (tmp_path / "app.exe").write_bytes(b"MZ" + bytes(99) + KEYS[4].encode("utf-16-le") + bytes(9))
    locked = zip_bytes([("a.txt", f"K={KEYS[5]}\n".encode()), ("b.txt", f"K={KEYS[6]}\n".encode())])
    (tmp_path / "locked.zip").write_bytes(mark_encrypted(locked, {"a.txt"}))
    for fmt in RENDERERS:
        result = run("scan", str(tmp_path), "--format", fmt, "-v")
        assert result.exit_code == 1 and "not fully scanned" in result.stderr
        assert leaked(result.stdout + result.stderr) == [], fmt
    shown = run("scan", str(tmp_path), "--format", "json", "--show-secrets").stdout
    assert len(leaked(shown)) == 4  # KEYS[5] is behind the encrypted entry


def test_staged_scan_prints_no_key(planted: Path):
    (planted / "staged.py").write_text(f"S = '{KEYS[2]}'\n")
    git(planted, "add", "staged.py")
    try:
        for fmt in RENDERERS:
            result = run("scan", "--staged", str(planted), "--format", fmt, "-v")
            assert result.exit_code == 1 and leaked(result.stdout + result.stderr) == []
    finally:
        git(planted, "rm", "-q", "--cached", "staged.py")
        (planted / "staged.py").unlink()


def test_triage_and_ci_outputs_print_no_key(planted: Path, tmp_path: Path):
    """Issue 23's new outputs: `allow` (and the config it writes), `ci github` with its policy
    warning, failure summary and outputs, and `scan-many -o DIR --format sarif`."""
    copy = tmp_path / "copy"
    shutil.copytree(planted, copy)
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "policy and untracked key")
    config = copy / ".leakscan.yaml"
    result = run("allow", sha256(KEYS[2])[:12], "--reason", "audited", str(copy))
    assert (
        result.exit_code == 0 and leaked(result.stdout + result.stderr + config.read_text()) == []
    )
    out, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    env = {"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary),
           "GITHUB_EVENT_NAME": "workflow_dispatch"}  # fmt: skip
    for args in (["--mode", "range", "--base", "HEAD~1"], ["--mode", "range", "--base", "nope"]):
        result = run("ci", "github", "--path", str(copy), "--sarif-file", str(tmp_path / "s"),
                     *args, "--show-secrets", env=env)  # fmt: skip
        assert result.exit_code in (1, 2), result.stderr
        annotations = "".join(x for x in result.stdout.splitlines() if x.startswith("::"))
        written = out.read_text() + summary.read_text() + annotations + result.stderr
        assert leaked(written) == []
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{copy}\n")
    result = run("scan-many", str(listing), "--format", "sarif", "-o", str(tmp_path / "many"))
    assert result.exit_code == 1, result.stderr
    files = "".join(f.read_text() for f in (tmp_path / "many").iterdir())
    assert files and leaked(files + result.stdout + result.stderr) == []


def test_nightly_scan_many_outputs_and_state_hold_no_key(planted: Path, tmp_path: Path):
    """`scan-many --state`: the report (every format), the open/fixed lines and the state file."""
    top = tmp_path / "org"
    top.mkdir()
    shutil.copytree(planted, top / "planted")
    state = tmp_path / "state.json"
    assert run("scan-many", str(top), "--state", str(state), "-j", "1").exit_code == 1
    commit_file(top / "planted", "config/settings.py", "nothing\n")  # keys fixed since: named
    said = []
    for fmt in RENDERERS:
        out = tmp_path / f"nightly.{fmt}"
        result = run("scan-many", str(top), "--state", str(state), "-j", "1", "--format", fmt,
                     "-o", str(out), "-v")  # fmt: skip
        assert result.exit_code in (0, 1), result.stderr
        # --format sarif -o names a directory: one SARIF file per repository
        written = "".join(f.read_text() for f in out.iterdir()) if out.is_dir() else out.read_text()
        assert leaked(written + result.stdout + result.stderr + state.read_text()) == []
        said.append(result.stderr)
    assert "no longer at HEAD" in said[0]  # the first of them named the fixed keys (by preview)


# --- errors -------------------------------------------------------------------------------------


def test_error_raised_mid_scan_prints_no_key(planted: Path, tmp_path: Path):
    slow = tmp_path / "slow.yaml"
    slow.write_text(
        "rules:\n  - id: acme.slow\n    title: Slow\n    severity: high\n    keywords: ['_live_']\n"
        "    regex: '_live_(?:[A-Za-z0-9]|[A-Za-z0-9]{2})+\\$'\n"
    )
    for scan_args in ([], ["--history"]):
        result = run(
            "scan", str(planted), *scan_args, "--rules", str(slow), "--rule-timeout", "0.05", "-v"
        )
        assert result.exit_code == 2 and "rule(s) acme.slow timed out" in result.stderr
        assert leaked(result.stdout + result.stderr) == []
    broken = make_repo(tmp_path / "broken")
    commit_file(broken, "a.py", f"K = '{KEYS[6]}'\n")
    (broken / ".git" / "index").write_bytes(b"DIRC" + KEYS[6].encode())
    result = run("scan", str(broken))
    assert result.exit_code == 2 and leaked(result.stdout + result.stderr) == []


@pytest.mark.parametrize(
    "content",
    [
        (
            "rules:\n  - id: acme.x\n    title: X\n    severity: high\n    keywords: [a]\n    regex: a\n"
            "    {key}: 1\n"
        ),
        "rules:\n  - id: acme.x\n    title: X\n    severity: {key}\n    keywords: [a]\n    regex: a\n",
        "rules: []\n{key}: 1\n",
    ],
)
def test_rule_file_errors_quoting_a_key_are_redacted(tmp_path: Path, content: str):
    rule = tmp_path / "r.yaml"
    rule.write_text(content.format(key=KEYS[0]))
    for args in (["rules", "check", str(rule)], ["scan", str(tmp_path), "--rules", str(rule)]):
        result = run(*args)
        assert result.exit_code == 2 and "leakscan: error: " in result.stderr
        assert leaked(result.stdout + result.stderr) == [] and KEYS[0][:8] in result.stderr


@pytest.mark.parametrize("content", ["fail-on: {key}\n", "{key}: 1\n"])
def test_config_errors_quoting_a_key_are_redacted(tmp_path: Path, content: str):
    (tmp_path / ".leakscan.yaml").write_text(content.format(key=KEYS[1]))
    result = run("scan", str(tmp_path))
    assert result.exit_code == 2 and leaked(result.stdout + result.stderr) == []


def test_rules_check_with_keys_in_examples(tmp_path: Path):
    rule = tmp_path / "acme.yaml"
    rule.write_text(
        "rules:\n  - id: acme.token\n    title: Acme token\n    severity: high\n"
        "    keywords: [acme_]\n    regex: 'acme_[a-z]{12}'\n"
        f"    examples: ['acme_abcdefghijkl {KEYS[0]}', '{KEYS[1]}']\n"
        f"    negative_examples: ['acme_abcdefghijkl {KEYS[2]}']\n"
    )
    result = run("rules", "check", str(rule))
    assert result.exit_code == 2
    assert (
        "example 2 is not matched" in result.stderr
        and "negative example 1 is matched" in result.stderr
    )
    assert leaked(result.stdout + result.stderr) == []


# --- reprs --------------------------------------------------------------------------------------


RAW_FIELDS = {"secret", "data", "raw", "line_before", "content", "raw_value", "headers"}


def _is_record(obj: object) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def _records(obj: object) -> Iterator[object]:
    """`obj` and every record (NamedTuple) reachable from it."""
    if _is_record(obj):
        yield obj
        for value in obj:  # type: ignore[union-attr]
            yield from _records(value)
    elif isinstance(obj, (tuple, list, frozenset, set)):
        for item in obj:
            yield from _records(item)


def test_repr_of_every_record_type_holds_no_key():
    data = (
        "\n".join(f"K{i} = '{k}'" for i, k in enumerate(KEYS))
        + f"\nA = '{KEYS[0]}'  # leakscan:allow\n"
    )
    blob = Blob("f.py", data.encode(), commit="0" * 40, author_date="2020-01-01")
    report = scan.scan_blob(SETTINGS, blob)
    found = match.find_matches(SETTINGS.matcher, blob.data)
    result = scan.scan_items(SETTINGS, [blob, model.Skipped("x", "why")], target=".", mode="paths")
    hits = scan.match_blob(SETTINGS, blob.data)
    roots = (
        blob,
        report,
        found,
        hits,
        result,
        SETTINGS,
        findings.from_occurrences(SETTINGS.rules, report.occurrences),
    )
    seen = {type(r): r for root in roots for r in _records(root)}
    for record in seen.values():
        assert leaked(repr(record)) == [], type(record).__name__
    assert {model.Blob, model.Match, model.Finding, findings.Occurrence, scan.Hit} <= set(seen)


def test_no_record_type_shows_a_raw_field_in_its_repr():
    """Every record of every module, with a key in each field that holds raw content."""
    modules = [importlib.import_module(m.name)
               for m in pkgutil.walk_packages(leakscan.__path__, "leakscan.")
               if not m.name.endswith("__main__")]  # fmt: skip
    defined = {cls for m in modules for _, cls in inspect.getmembers(m, inspect.isclass)
               if hasattr(cls, "_fields") and cls.__module__ == m.__name__}  # fmt: skip
    assert {model.Blob, model.Finding, scan.Hit} <= defined
    checked = set()
    for cls in defined:
        raw = RAW_FIELDS & set(cls._fields)
        if raw:
            record = cls._make(KEYS[0] if name in raw else None for name in cls._fields)
            assert leaked(repr(record)) == [], f"{cls.__name__} shows {sorted(raw)} in its repr"
            checked.add(cls.__name__)
    assert {
        "Match",
        "Finding",
        "Blob",
        "LayeredMatch",
        "Occurrence",
        "Hit",
        "View",
        "Api",
    } <= checked


# --- progress bar -------------------------------------------------------------------------------


def test_progress_bar_forced_on_a_terminal_prints_no_key(tmp_path: Path):
    """The bar is drawn only on a terminal and only for big scans: give it both."""
    repo = make_repo(tmp_path / "big")
    filler = "".join(
        f"line {i} of ordinary text, nothing secret in it at all\n" for i in range(20_000)
    )
    for n in range(36):  # ~36 MiB of distinct blobs, above the bar's threshold
        (repo / f"{n}.txt").write_text(filler + f"K = '{KEYS[n % len(KEYS)]}'\n{n}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "big")
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI")}
    proc = subprocess.Popen(
        [*LEAKSCAN, "scan", "--history", str(repo), "-j", "1"],
        stdout=subprocess.PIPE, stderr=secondary, env=env,
    )  # fmt: skip
    os.close(secondary)
    err = read_terminal(primary)
    out, _ = proc.communicate(timeout=120)
    os.close(primary)
    text = out.decode() + err.decode("utf-8", "replace")
    assert proc.returncode == 1
    assert "ETA" in text and "blobs" in text  # the bar was drawn
    assert leaked(text) == []
