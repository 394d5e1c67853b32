"""The bad-input matrix of docs/security.md: every hostile or broken input, its exit code and message.

Each test is one row of the table in docs/security.md; keep the two in step.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from leakscan.model import Blob, Skipped
from tests import keys
from tests.conftest import LEAKSCAN, commit_file, git, plant, run, scan_json

CATASTROPHIC_RULE = (
    "rules:\n  - id: acme.slow\n    title: Slow rule\n    severity: high\n"
    "    keywords: [aaaa]\n    regex: '(a|aa)+$'\n"
)


def skipped(doc: dict) -> dict[str, str]:
    return {s["path"]: s["reason"] for s in doc["scan"]["skipped"]}


# --- targets that do not exist or cannot be read -------------------------------------------------


def test_missing_path(tmp_path):
    result = run("scan", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"leakscan: error: {tmp_path / 'nope'}: no such file or directory; check the path and try again.\n"
    )


@pytest.fixture
def world_dir() -> Iterator[Path]:
    """A directory an unprivileged user can traverse (pytest's own tmp dirs are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="leakscan-perm-"))
    path.chmod(0o755)
    yield path
    for p in path.rglob("*"):
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(path)


def scan_unprivileged(*args: str) -> subprocess.CompletedProcess[str]:
    """As root, permissions do not stop reads: run the scan as root without the two capabilities
    that bypass them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so mode bits bind it like any user
    while the checkout (owned by root, wherever CI cloned it) stays readable. As any other user, the
    test's chmod is enough and the scan runs as that user."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "the permission tests need setpriv (util-linux) when run as root"
        caps = "-dac_override,-dac_read_search"
        prefix = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]
    env = {**os.environ, "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [*prefix, *LEAKSCAN, "scan", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_permission_denied_file_is_reported_and_the_rest_scanned(world_dir):
    plant(world_dir, "ok.py", f"K = '{keys.key()}'\n")
    locked = plant(world_dir, "locked.env", f"K={keys.key()}\n")
    locked.chmod(0o000)
    proc = scan_unprivileged(str(world_dir), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert skipped(doc)["locked.env"] == "unreadable: Permission denied"
    assert "1 file(s) could not be read" in proc.stderr
    assert [f["locations"][0]["path"] for f in doc["findings"]] == ["ok.py"]


def test_permission_denied_file_alone_exits_two(world_dir):
    locked = plant(world_dir, "locked.env", f"K={keys.key()}\n")
    locked.chmod(0o000)
    proc = scan_unprivileged(str(locked))
    assert proc.returncode == 2
    assert f"Path '{locked}' is not readable." in proc.stderr


def test_permission_denied_directory_is_named_as_unreadable(world_dir):
    plant(world_dir, "ok.txt", "fine\n")
    plant(world_dir, "private/k.env", f"K={keys.key()}\n")
    (world_dir / "private").chmod(0o000)
    proc = scan_unprivileged(str(world_dir), "--format", "json", "-v")
    assert proc.returncode == 0, proc.stderr
    assert skipped(json.loads(proc.stdout))["private"] == "unreadable: Permission denied"
    assert "skipped private: unreadable: Permission denied" in proc.stderr


# --- links and special files ---------------------------------------------------------------------


def test_broken_symlink(tmp_path):
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 0 and skipped(doc) == {"dangling": "symlink, not followed"}
    result = run("scan", str(tmp_path / "dangling"))  # named: followed, and nothing to read
    assert result.exit_code == 2 and "nothing could be read" in result.stderr


def test_symlink_loop(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path)  # a directory cycle
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 0
    assert set(skipped(doc).values()) == {"symlink, not followed"}
    result = run("scan", str(tmp_path / "a"), "--format", "json")
    assert result.exit_code == 2
    assert (
        "Too many levels of symbolic links"
        in skipped(json.loads(result.stdout))[str(tmp_path / "a")]
    )


def test_symlink_pointing_outside_the_target_is_not_followed(tmp_path):
    outside = plant(tmp_path, "outside/secret.env", f"K={keys.key()}\n")
    target = tmp_path / "target"
    plant(target, "a.txt", "hello\n")
    (target / "link.env").symlink_to(outside)
    (target / "linkdir").symlink_to(outside.parent)
    code, doc, _ = scan_json(str(target))
    assert code == 0 and doc["findings"] == []
    assert skipped(doc) == {"link.env": "symlink, not followed", "linkdir": "symlink, not followed"}


def test_fifo_never_blocks(tmp_path):
    os.mkfifo(tmp_path / "pipe")  # nobody writes to it: opening it for reading would block
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 0 and skipped(doc) == {"pipe": "not a regular file (a FIFO)"}
    result = run("scan", str(tmp_path / "pipe"), "--format", "json")
    assert result.exit_code == 0 and "FIFO" in result.stdout


def test_device_file_is_never_read(tmp_path):
    (tmp_path / "zero").symlink_to("/dev/zero")  # reading it would never end
    result = run("scan", str(tmp_path / "zero"), "--format", "json")  # named: the link is followed
    assert result.exit_code == 0
    assert list(skipped(json.loads(result.stdout)).values()) == [
        "not a regular file (a character device)"
    ]
    if os.geteuid() == 0:  # root can make a real device node inside the tree as well
        os.mknod(tmp_path / "null", 0o600 | 0o020000, os.makedev(1, 3))
        _, doc, _ = scan_json(str(tmp_path))
        assert skipped(doc)["null"] == "not a regular file (a character device)"


def test_socket_is_skipped(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(tmp_path / "s.sock"))
        code, doc, _ = scan_json(str(tmp_path))
    finally:
        sock.close()
    assert code == 0 and skipped(doc) == {"s.sock": "not a regular file (a socket)"}


# --- sizes and encodings -------------------------------------------------------------------------


def test_sparse_2gb_file_is_skipped_by_size_without_reading(tmp_path):
    big = tmp_path / "huge.bin"
    with big.open("wb") as fh:
        fh.truncate(2 * 1024**3)
    started = time.monotonic()
    code, doc, _ = scan_json(str(tmp_path))
    assert time.monotonic() - started < 5  # reading 2 GiB would take far longer
    assert code == 0 and skipped(doc) == {"huge.bin": "larger than --max-file-size (50.0 MiB)"}
    code, doc, _ = scan_json(str(tmp_path), "--max-file-size", "1G")
    assert skipped(doc) == {"huge.bin": "larger than --max-file-size (1.0 GiB)"}


def test_single_100mb_line_finishes_quickly_and_finds_the_key(tmp_path):
    k = keys.key("restricted", "live")
    half = b"a" * (50 * 1024**2)
    plant(tmp_path, "one-line.txt", half + b" " + k.encode() + b" " + half)
    started = time.monotonic()
    code, doc, _ = scan_json(str(tmp_path), "--max-file-size", "200M")
    assert time.monotonic() - started < 30
    assert code == 1
    ((loc,),) = [f["locations"] for f in doc["findings"]]
    assert (loc["line"], loc["column"]) == (1, len(half) + 2)


def test_invalid_utf8_is_scanned_and_columns_count_replacements(tmp_path):
    k = keys.key("secret", "live")
    plant(tmp_path, "bad.txt", b"\xc3\x28\x80 \xed\xa0\x80 K=" + k.encode() + b"\n")
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1
    (loc,) = doc["findings"][0]["locations"]
    line = b"\xc3\x28\x80 \xed\xa0\x80 K=".decode("utf-8", "replace")
    assert loc["column"] == len(line) + 1 and loc["encoding"] == "plain"


def test_utf16_without_bom_is_decoded(tmp_path):
    k = keys.key("secret", "test")
    plant(tmp_path, "le.txt", f"first line\nkey: {k}\n".encode("utf-16-le"))
    plant(tmp_path, "be.txt", f"key: {k}\n".encode("utf-16-be"))
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1
    locs = sorted(
        (l["path"], l["line"], l["column"], l["encoding"]) for l in doc["findings"][0]["locations"]
    )
    assert locs == [("be.txt", 1, 6, "utf-16be"), ("le.txt", 2, 6, "utf-16le")]


def test_nul_heavy_binary_is_counted_not_scanned(tmp_path):
    plant(tmp_path, "blob.bin", bytes(range(256)) * 64 + keys.body().encode())  # no key prefix
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 0 and doc["findings"] == []
    assert doc["scan"]["notes"] == ["1 binary file(s) not scanned"]


def test_nul_heavy_binary_with_a_key_in_ascii_is_matched_raw(tmp_path):
    plant(tmp_path, "blob.bin", bytes(range(256)) * 64 + keys.key().encode())
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1 and doc["scan"]["notes"] == []
    (loc,) = doc["findings"][0]["locations"]
    assert loc["encoding"] == "plain"


def test_path_with_newline_and_non_utf8_bytes_is_escaped(tmp_path):
    k = keys.key("secret", "live")
    target = tmp_path / os.fsdecode(b"dir\xfe")
    target.mkdir()
    with open(os.path.join(os.fsencode(target), b"we\nird\xff.txt"), "wb") as fh:
        fh.write(f"K={k}\n".encode())
    text = run("scan", str(target), "--no-color")
    assert text.exit_code == 1
    assert "  at we\\nird\\xff.txt:1:3\n" in text.stdout
    code, doc, _ = scan_json(str(target))
    assert code == 1
    assert doc["findings"][0]["locations"][0]["path"] == "we\nird\\xff.txt"
    assert doc["scan"]["target"].endswith("dir\\xfe")


# --- config and rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("fail-on: [\n", "the config file is not valid YAML at line 2."),
        ("- a\n- b\n", "the config must be a mapping of settings."),
        ("fail_on: high\n", "unknown setting(s) fail_on"),
        ("fail-on: severe\n", "fail-on: unknown severity 'severe'"),
        ("exclude-paths: vendor/\n", "`exclude-paths` must be a list."),
        (b"fail-on: \xff\n", "the config file is not UTF-8 text."),
    ],
)
def test_malformed_config(tmp_path, content, message):
    plant(tmp_path, ".leakscan.yaml", content)
    result = run("scan", str(tmp_path))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"leakscan: error: {tmp_path / '.leakscan.yaml'}: ")
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_catastrophic_rule_times_out_is_reported_and_exits_two(tmp_path):
    rule = plant(tmp_path / "rules", "slow.yaml", CATASTROPHIC_RULE)
    target = tmp_path / "target"
    for i in range(3):
        plant(target, f"f{i}.txt", "a" * 40 + "!\n")
    started = time.monotonic()
    result = run("scan", str(target), "--rules", str(rule), "--rule-timeout", "0.05",
                 "--format", "json", "-o", str(tmp_path / "r.json"))  # fmt: skip
    assert time.monotonic() - started < 30
    assert result.exit_code == 2
    assert "the scan did not finish: f0.txt: rule(s) acme.slow timed out" in result.stderr
    entries = json.loads((tmp_path / "r.json").read_text())["scan"]["skipped"]
    assert [(e["path"], e["incomplete"]) for e in entries] == [
        (f"f{i}.txt", True) for i in range(3)
    ]


def test_rule_timeout_must_be_positive(tmp_path):
    result = run("scan", str(tmp_path), "--rule-timeout", "0")
    assert result.exit_code == 2 and "--rule-timeout" in result.stderr


# --- interruption and output files ---------------------------------------------------------------


def interrupt_mid_scan(*args: str) -> tuple[int, str, str]:
    """Run `leakscan ARGS`, send Ctrl-C once it is matching, and return (exit code, stdout, stderr)."""
    proc = subprocess.Popen(
        [*LEAKSCAN, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while _cpu_seconds(proc.pid) < 1.0:  # imports take well under that: now it is matching
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, out, err


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_sigint_mid_scan_exits_130_and_leaves_the_report_untouched(tmp_path):
    rule = plant(tmp_path / "rules", "slow.yaml", CATASTROPHIC_RULE)
    target = tmp_path / "target"
    for i in range(40):
        plant(target, f"f{i:02}.txt", "a" * 40 + "!\n")
    report = plant(tmp_path, "report.json", "previous complete report\n")
    code, out, err = interrupt_mid_scan(
        "scan", str(target), "--rules", str(rule), "--rule-timeout", "0.2", "--format", "json",
        "-o", str(report),
    )  # fmt: skip
    assert code == 130, err
    assert err.endswith("leakscan: interrupted; no report was written.\n") and out == ""
    assert report.read_text() == "previous complete report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "rules", "target"]


def test_sigint_to_a_fresh_output_leaves_no_file(tmp_path):
    rule = plant(tmp_path / "rules", "slow.yaml", CATASTROPHIC_RULE)
    for i in range(40):
        plant(tmp_path / "target", f"f{i:02}.txt", "a" * 40 + "!\n")
    (tmp_path / "out").mkdir()
    code, _, err = interrupt_mid_scan(
        "scan", str(tmp_path / "target"), "--rules", str(rule), "--rule-timeout", "0.2",
        "-o", str(tmp_path / "out" / "r.txt"),
    )  # fmt: skip
    assert code == 130, err
    assert list((tmp_path / "out").iterdir()) == []


def test_sigint_mid_history_scan_exits_130(repo, tmp_path):
    """History scans run the matcher in this process or in workers; Ctrl-C stops both."""
    rule = plant(tmp_path / "rules", "slow.yaml", CATASTROPHIC_RULE)
    for i in range(40):
        plant(repo, f"f{i:02}.txt", "a" * 40 + f"!{i}\n")  # distinct blobs: each is scanned once
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "slow")
    report = plant(tmp_path, "report.json", "previous complete report\n")
    for jobs in ("1", "2"):
        code, _, err = interrupt_mid_scan(
            "scan", "--history", str(repo), "-j", jobs, "--rules", str(rule), "--rule-timeout",
            "0.2", "--format", "json", "-o", str(report),
        )  # fmt: skip
        assert code == 130, err
        assert err.endswith("leakscan: interrupted; no report was written.\n")
        assert report.read_text() == "previous complete report\n"


def test_failed_write_keeps_the_old_report_and_no_temp_file(tmp_path):
    from leakscan.atomic import write_atomically

    report = plant(tmp_path, "report.sarif", "old\n")
    with pytest.raises(UnicodeEncodeError):  # fails half-way through writing: nothing replaced
        write_atomically(report, "x" * 100_000 + "\udcff")
    assert report.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.sarif"]
    write_atomically(report, "new\n")
    assert report.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == [
        "report.sarif"
    ]


def test_unwritable_output_is_a_sentence(tmp_path):
    result = run("scan", str(tmp_path), "-o", str(tmp_path / "no" / "dir" / "r.json"))
    assert result.exit_code == 2
    assert "cannot write the report (No such file or directory)" in result.stderr


# --- repositories (working tree) -----------------------------------------------------------------


def test_git_file_pointing_nowhere(tmp_path):
    plant(tmp_path, ".git", "gitdir: /nonexistent/leakscan/gitdir\n")
    plant(tmp_path, "a.py", f"K = '{keys.key()}'\n")
    result = run("scan", str(tmp_path))
    assert result.exit_code == 2 and result.stdout == ""
    assert "git cannot open the repository here (fatal: not a git repository: " in result.stderr
    assert "remove its .git to scan the files as plain files" in result.stderr


@pytest.mark.parametrize("scan_args", [["--history"], ["--range", "HEAD~1..HEAD"]])
def test_git_file_pointing_nowhere_in_git_scans(tmp_path, scan_args):
    plant(tmp_path, ".git", "gitdir: /nonexistent/leakscan/gitdir\n")
    result = run("scan", *scan_args, str(tmp_path))
    assert result.exit_code == 2 and result.stdout == ""
    assert (
        "git cannot open the repository here (not a git repository: /nonexistent" in result.stderr
    )


def test_empty_repository(repo):
    for scan_args in ([], ["--history"], ["--staged"]):
        result = run("scan", *scan_args, str(repo), "--format", "json")
        assert result.exit_code == 0, (scan_args, result.stderr)
        assert json.loads(result.stdout)["findings"] == []
    doc = json.loads(run("scan", "--history", str(repo), "--format", "json").stdout)
    assert "empty repository: there are no commits to scan" in doc["scan"]["notes"]


def test_corrupt_object_in_a_range_scan(repo):
    commit_file(repo, "a.py", "x = 1\n")
    commit_file(repo, "b.py", f"K = '{keys.key()}'\n")
    oid = git(repo, "rev-parse", "HEAD:b.py")
    loose = repo / ".git" / "objects" / oid[:2] / oid[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not zlib")
    result = run("scan", "--range", "HEAD~1..HEAD", str(repo))
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("leakscan: error: ") and "git fsck" in line


def test_corrupt_index(repo):
    commit_file(repo, "a.py", "x = 1\n")
    (repo / ".git" / "index").write_bytes(b"DIRC" + b"\xff" * 64)
    result = run("scan", str(repo))
    assert result.exit_code == 2 and result.stdout == ""
    assert "git could not list the files" in result.stderr and result.stderr.count("\n") == 1


def test_repository_config_cannot_run_commands(repo, tmp_path):
    marker = tmp_path / "pwned"
    commit_file(repo, "a.py", "x = 1\n")
    git(repo, "config", "core.fsmonitor", f"touch {marker}; false")
    assert run("scan", str(repo)).exit_code == 0
    assert not marker.exists()


# --- matrix rows of issue 20 ---------------------------------------------------------------------


def test_output_to_a_directory_is_a_sentence(tmp_path):
    plant(tmp_path / "target", "a.py", f"K = '{keys.key()}'\n")
    (tmp_path / "out").mkdir()
    proc = subprocess.run(
        [*LEAKSCAN, "scan", str(tmp_path / "target"), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert "is a directory" in proc.stderr and list((tmp_path / "out").iterdir()) == []


def test_output_into_a_read_only_directory_is_a_sentence(world_dir):
    plant(world_dir / "target", "a.py", f"K = '{keys.key()}'\n")
    out = world_dir / "out"
    out.mkdir()
    out.chmod(0o555)
    proc = scan_unprivileged(str(world_dir / "target"), "-o", str(out / "r.json"))
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    assert proc.stderr.endswith("cannot write the report (Permission denied).\n")
    assert proc.stderr.count("\n") == 1 and list(out.iterdir()) == []


def test_output_to_dev_full_is_a_sentence(tmp_path):
    plant(tmp_path, "a.py", f"K = '{keys.key()}'\n")
    for fmt in ("text", "json", "sarif"):
        result = run("scan", str(tmp_path), "--format", fmt, "-o", "/dev/full")
        assert result.exit_code == 2, (fmt, result.stderr)
        assert result.stderr.endswith(
            "leakscan: error: /dev/full: cannot write the report (No space left on device).\n"
        )


def terminate_mid_scan(*args: str) -> tuple[int, str, str]:
    proc = subprocess.Popen(
        [*LEAKSCAN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while _cpu_seconds(proc.pid) < 1.0:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, out, err


def test_sigterm_mid_scan_exits_143_and_writes_no_report(repo, tmp_path):
    rule = plant(tmp_path / "rules", "slow.yaml", CATASTROPHIC_RULE)
    for i in range(40):
        plant(repo, f"f{i:02}.txt", "a" * 40 + f"!{i}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "slow")
    (tmp_path / "out").mkdir()
    report = tmp_path / "out" / "r.json"
    for scan_args in ([], ["--history", "-j", "1"], ["--history", "-j", "2"]):
        code, out, err = terminate_mid_scan(
            "scan", *scan_args, str(repo), "--rules", str(rule), "--rule-timeout", "0.2",
            "--format", "json", "-o", str(report),
        )  # fmt: skip
        assert code == 143, (scan_args, err)
        assert err.endswith("leakscan: interrupted; no report was written.\n") and out == ""
        assert list((tmp_path / "out").iterdir()) == []


def test_sigpipe_ends_quietly(tmp_path):
    body = keys.key()[:-6]
    for i in range(3000):
        plant(tmp_path, f"k{i:04}.py", f"K = '{body}{i:06}'\n")
    proc = subprocess.run(
        f"{' '.join(LEAKSCAN)} scan {tmp_path} | head -1",
        shell=True, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "Broken pipe" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr


def _bomb(levels: int = 9) -> list[str]:
    """Billion-laughs anchors as YAML list items: 9**levels strings once expanded."""
    lines = ["  - &l0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for i in range(1, levels):
        lines.append(f"  - &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return lines


@pytest.mark.parametrize(
    "name, option, head",
    [
        (".leakscan.yaml", None, "exclude-paths:"),
        ("rules.yaml", "--rules", "rules:"),
        ("config.yaml", "--config", "allow-secrets:"),
    ],
)
def test_yaml_bomb_is_a_quick_sentence(tmp_path, name, option, head):
    target = tmp_path / "target"
    plant(target, "a.py", "x = 1\n")
    bomb = plant(target if option is None else tmp_path, name, "\n".join([head, *_bomb()]) + "\n")
    started = time.monotonic()
    proc = subprocess.run(
        [*LEAKSCAN, "scan", str(target), *([option, str(bomb)] if option else [])],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert time.monotonic() - started < 20
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"leakscan: error: {bomb}: ") and "internal error" not in line


def test_deeply_nested_json_baseline_is_a_sentence(tmp_path):
    plant(tmp_path / "target", "a.py", "x = 1\n")
    baseline = plant(tmp_path, "baseline.json", "[" * 200_000 + "]" * 200_000)
    result = run("scan", str(tmp_path / "target"), "--baseline", str(baseline))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"leakscan: error: {baseline}: the baseline file is nested too deeply to be a baseline; "
        + result.stderr.split("baseline; ", 1)[1]
    )
    assert "internal error" not in result.stderr and result.stderr.count("\n") == 1


def test_head_pointing_to_a_missing_ref(repo):
    key = keys.key()
    commit_file(repo, "a.py", f"K = '{key}'\n")
    git(repo, "symbolic-ref", "HEAD", "refs/heads/nowhere")
    for scan_args in ([], ["--history"]):
        code, doc, err = scan_json(*scan_args, str(repo))
        assert code == 1, (scan_args, err)
        assert [f["secret_sha256"] for f in doc["findings"]] == [
            hashlib.sha256(key.encode()).hexdigest()
        ]


def test_replaced_object_is_scanned_as_stored(repo, tmp_path):
    key = keys.key()
    commit_file(repo, "a.py", f"K = '{key}'\n")
    original = git(repo, "rev-parse", "HEAD:a.py")
    decoy = plant(tmp_path, "decoy", "x = 1\n")
    git(repo, "replace", original, git(repo, "hash-object", "-w", str(decoy)))
    assert git(repo, "cat-file", "-p", "HEAD:a.py") == "x = 1"  # what plain git shows
    code, doc, err = scan_json("--history", str(repo))
    assert code == 1, err
    assert [f["secret_sha256"] for f in doc["findings"]] == [
        hashlib.sha256(key.encode()).hexdigest()
    ]


def test_graft_that_hides_a_commit_does_not_hide_its_key(repo):
    key = keys.key()
    commit_file(repo, "a.py", f"K = '{key}'\n")
    commit_file(repo, "a.py", "K = None\n")
    git(repo, "replace", "--graft", "HEAD")  # HEAD now shows no parent: the key's commit is gone
    assert git(repo, "rev-list", "--count", "HEAD") == "1"
    code, doc, err = scan_json("--history", str(repo))
    assert code == 1, err
    assert [f["secret_sha256"] for f in doc["findings"]] == [
        hashlib.sha256(key.encode()).hexdigest()
    ]


def test_keys_at_the_engines_window_edges_are_found(tmp_path):
    from leakscan.match.engine import WINDOW_BACK, WINDOW_FORWARD

    key = keys.key()
    lines = []
    for edge in (WINDOW_BACK, WINDOW_FORWARD, WINDOW_FORWARD + len(key)):
        for shift in range(-len(key) - 2, 3):
            first = keys.key(seed=len(lines))
            gap = max(1, edge + shift - len(first))
            second = keys.key(seed=10_000 + len(lines))
            lines.append(f"{first}{' ' * gap}{second}")  # the second straddles the first's window
            lines.append(f"{'x ' * ((edge + shift) // 2)}{second[:-4]}{len(lines):04}")
    planted = {k for line in lines for k in line.split() if k.startswith(key[:8])}
    plant(tmp_path, "edges.txt", "\n".join(lines) + "\n")
    code, doc, err = scan_json(str(tmp_path))
    assert code == 1, err
    found = {f["secret_sha256"] for f in doc["findings"]}
    assert found == {hashlib.sha256(k.encode()).hexdigest() for k in planted}


def test_keys_at_the_cat_file_window_edges_are_found(repo):
    from leakscan.sources.git import WINDOW

    planted = {}
    for i in range(2 * WINDOW + 2):
        planted[i] = (
            keys.key(seed=i) if i in {WINDOW - 1, WINDOW, WINDOW + 1, 2 * WINDOW + 1} else None
        )
        plant(repo, f"f{i:04}.py", f"K = '{planted[i]}'\n" if planted[i] else f"n = {i}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "many blobs")
    code, doc, err = scan_json("--history", str(repo))
    assert code == 1, err
    found = {f["secret_sha256"] for f in doc["findings"]}
    assert found == {hashlib.sha256(k.encode()).hexdigest() for k in planted.values() if k}


def test_100000_files_in_one_directory(tmp_path):
    many = tmp_path / "many"
    many.mkdir()
    for i in range(100_000):
        (many / f"f{i:06}").touch()
    plant(many, "zz.py", f"K = '{keys.key()}'\n")
    started = time.monotonic()
    code, doc, err = scan_json(str(tmp_path))
    assert code == 1, err
    assert doc["scan"]["files"] == 100_001 and len(doc["findings"]) == 1
    assert time.monotonic() - started < 60


def test_4096_byte_path(tmp_path):
    """PATH_MAX is 4,096 bytes with its NUL: a file path of 4,095 made of 200-byte folders."""
    deep = tmp_path
    while len(str(deep)) < 4096 - 250:
        deep /= "d" * 200
    deep.mkdir(parents=True)
    target = deep / ("k" * (4095 - len(str(deep)) - 1))
    target.write_text(f"K = '{keys.key()}'\n")
    assert len(str(target)) == 4095
    code, doc, err = scan_json(str(tmp_path))
    assert code == 1, err
    assert [loc["path"] for f in doc["findings"] for loc in f["locations"]] == [
        str(target.relative_to(tmp_path))
    ]


def test_sparse_checkout(repo):
    """A key in a folder outside the sparse cone: not on disk, so the tree scan cannot see it;
    the history scan reads the objects and finds it."""
    key = keys.key()
    commit_file(repo, "kept/a.py", "x = 1\n")
    commit_file(repo, "hidden/b.py", f"K = '{key}'\n")
    git(repo, "sparse-checkout", "set", "kept")
    assert not (repo / "hidden").exists()
    code, doc, err = scan_json(str(repo))
    assert code == 0 and doc["findings"] == [], err
    assert skipped(doc) == {
        "hidden/b.py": "not checked out (outside the sparse checkout; --history reads it from git)"
    }
    result = run("scan", str(repo))
    assert result.exit_code == 0
    assert ("1 file(s) outside the sparse checkout are not on disk and were not scanned; "
            "`leakscan scan --history` reads them from git.") in result.stderr  # fmt: skip
    assert "1 skipped (1 outside the sparse checkout)" in result.stderr
    assert run("scan", "--strict", str(repo)).exit_code == 2
    code, doc, err = scan_json("--history", str(repo))
    assert code == 1, err
    assert [f["secret_sha256"] for f in doc["findings"]] == [
        hashlib.sha256(key.encode()).hexdigest()
    ]


def test_skip_worktree_file_on_disk_is_still_scanned(repo):
    """`git update-index --skip-worktree` on a file that is there (a local override of a tracked
    config): git tags it like a sparse one, but it is on disk, so it is read."""
    commit_file(repo, "settings.py", "K = None\n")
    git(repo, "update-index", "--skip-worktree", "settings.py")
    plant(repo, "settings.py", f"K = '{keys.key()}'\n")
    code, doc, err = scan_json(str(repo))
    assert code == 1, err
    assert skipped(doc) == {}


def test_lfs_pointer_in_a_working_tree_is_noted(repo):
    """A checkout without git-lfs leaves the pointer on disk: the file it stands for is not here."""
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "b" * 64 + "\nsize 9\n"
    commit_file(repo, "model.bin", pointer)
    code, doc, _ = scan_json(str(repo))
    assert code == 0
    [note] = [n for n in doc["scan"]["notes"] if "LFS" in n]
    assert note.startswith("1 Git LFS pointer file(s): the files they point to are in LFS storage")


def test_files_that_vanish_or_grow_between_listing_and_reading(tmp_path):
    """A tree scan lists every file, then reads them: a file deleted in between is a skip (never a
    crash, never silent: --strict exits 2), one that grew is read to its new end, key included."""
    from leakscan.sources import worktree

    plant(tmp_path, "gone.txt", "x\n")
    plant(tmp_path, "grows.txt", "x = 1\n")
    listed = {
        e.shown: e
        for e in worktree.entries(
            worktree.plan([str(tmp_path)], tmp_path), include_ignored=False, excludes=()
        )
        if isinstance(e, worktree.Entry)
    }
    (tmp_path / "gone.txt").unlink()
    key = keys.key()
    with open(tmp_path / "grows.txt", "a") as fh:
        fh.write(f"K = '{key}'\n" * 5000)
    gone = worktree.read_entry(listed["gone.txt"], 1 << 20)
    assert gone == Skipped("gone.txt", "unreadable: No such file or directory")
    grown = worktree.read_entry(listed["grows.txt"], 1 << 20)
    assert isinstance(grown, Blob) and grown.data.count(key.encode()) == 5000
    capped = worktree.read_entry(listed["grows.txt"], 1024)
    assert capped == Skipped("grows.txt", "larger than --max-file-size (1.0 KiB)")
