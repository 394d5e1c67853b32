"""Exact output of every report format (text, JSON, SARIF, gitleaks JSON, CSV, JUnit) for one fixed
repository, working tree and history.

The repository is built in tmp_path with fixed names, e-mails, dates and contents, and its keys from a
seeded random generator, so commit SHAs and reports are the same on every run. Before comparing, only
values that legitimately vary are replaced: the absolute path of the repository (`<REPO>`) and the tool
version (`<VERSION>`). Commit SHAs are kept: fixed author, committer, dates and contents make them
the same everywhere. The reports hold no duration.

What the files say, checked by hand: line and column of each key (columns in code points: the `é` in
hooks.js is one column, the CRLF of restricted.env none), the end column of the base64 text for the
encoded key, the one-step raise of the test key under NEXT_PUBLIC_ (medium -> high, SARIF `error`),
publishable keys staying info, the inline-allowed key listed as suppressed, the removed key as
history-only in its first commit, and the base64 key in the history reports too, with the same
severity and encoding as in the working tree's (issue 18); the removed key's three history locations
listed oldest author date first (its introducing commit first, though two paths sort before it and
one later date sorts before another as text), and in the text report each remediation printed once,
in "What to do", after the findings that share it (issue 21).

To regenerate the files under tests/golden/ after an intended change, run
    LEAKSCAN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
and read the diff: every severity, line and column in it is a claim about the scanner.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import leakscan
from leakscan.fingerprint import preview, secret_sha256
from tests import keys
from tests.conftest import b64, git, make_repo, plant, run

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("LEAKSCAN_UPDATE_GOLDEN") == "1"
FORMATS = {"text": ("--format", "text", "--no-color"), "json": ("--format", "json"),
           "sarif": ("--format", "sarif"), "gitleaks-json": ("--format", "gitleaks-json"),
           "csv": ("--format", "csv"), "junit": ("--format", "junit"),
           "html": ("--format", "html"), "gitlab": ("--format", "gitlab")}  # fmt: skip
HASHED = ("json", "sarif", "csv", "junit")  # the formats that show preview and hash together
SUFFIXES = {"text": "txt", "gitleaks-json": "gitleaks.json", "junit": "junit.xml",
            "gitlab": "gitlab.json"}  # fmt: skip
MODES = {"worktree": (), "history": ("--history",)}

# Fixed bodies: a seed per key, so the repository, its SHAs and the reports never change.
PLANTED = {
    "live": keys.key("secret", "live", n=40, seed=101),
    "test": keys.key("secret", "test", n=40, seed=102),
    "restricted": keys.key("restricted", "live", n=40, seed=103),
    "publishable": keys.key("publishable", "live", n=40, seed=104),
    "webhook": keys.webhook(seed=105),
    "allowed": keys.key("secret", "test", n=40, seed=106),
    "history": keys.key("secret", "live", n=40, seed=107),
    "encoded": keys.key("restricted", "test", n=40, seed=108),
}


def commit_all(repo: Path, message: str, when: str) -> None:
    dates = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, env=dates)


def build(repo: Path) -> Path:
    k = PLANTED
    make_repo(repo)
    plant(repo, "README.md", "# shop\n")
    plant(repo, "old.env", f"STRIPE_KEY={k['history']}\n")
    commit_all(repo, "start", "2024-01-02T03:04:05+00:00")
    (repo / "old.env").unlink()
    plant(repo, "app/settings.py", f"import os\n\nSTRIPE_SECRET_KEY = '{k['live']}'\n")
    plant(repo, "ops/restricted.env", f"# reporting job\r\nRK={k['restricted']}\r\n")
    plant(
        repo, "web/.env", f"NEXT_PUBLIC_STRIPE_PK={k['publishable']}\nNEXT_PUBLIC_SK={k['test']}\n"
    )
    plant(repo, "web/public/hooks.js", f'const é = 1; const secret = "{k["webhook"]}";\n')
    plant(repo, "allowed.py", f"EXAMPLE = '{k['allowed']}'  # leakscan:allow\n")
    plant(repo, "deploy/values.yaml", f"stripe:\n  token: {b64(k['encoded'])}\n")
    commit_all(repo, "add the shop", "2024-01-03T03:04:05+00:00")
    # The removed key comes back twice, in later commits, under paths that sort before old.env; the
    # copy's author writes from UTC+5, so its date sorts after the archive's as text though it is
    # earlier: the text report lists the introducing commit first, then the others by date.
    plant(repo, "backup/old.env", f"# copy\nSTRIPE_KEY={k['history']}\n")
    commit_all(repo, "keep a copy", "2024-01-05T01:04:05+05:00")
    (repo / "backup/old.env").unlink()
    plant(repo, "archive/old.env", f"# archived\n\nSTRIPE_KEY={k['history']}\n")
    commit_all(repo, "archive the copy", "2024-01-04T23:04:05+00:00")
    (repo / "archive/old.env").unlink()
    commit_all(repo, "drop the copy", "2024-01-06T03:04:05+00:00")
    return repo


@pytest.fixture(scope="module")
def fixed_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("golden") / "shop")


def normalise(text: str, repo: Path) -> str:
    text = text.replace(json.dumps(str(repo))[1:-1], "<REPO>")
    text = re.sub(r'"(start|end)_time": "[0-9T:-]+"', r'"\1_time": "<TIME>"', text)  # gitlab
    text = text.replace(f"leakscan {leakscan.__version__} ·", "leakscan <VERSION> ·")  # html
    return text.replace(f'"{leakscan.__version__}"', '"<VERSION>"')


def golden_path(mode: str, fmt: str) -> Path:
    return GOLDEN / f"{mode}.{SUFFIXES.get(fmt, fmt)}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_report_is_exactly_the_golden_file(fixed_repo: Path, mode: str, fmt: str):
    result = run(
        "scan", *MODES[mode], str(fixed_repo), *FORMATS[fmt], "--jobs", "1", "--no-progress"
    )
    assert result.exit_code == 1, result.stderr
    out = normalise(result.stdout, fixed_repo)
    path = golden_path(mode, fmt)
    if UPDATE:
        path.write_bytes(out.encode())
    assert out.encode() == path.read_bytes()


def test_golden_files_hold_previews_and_hashes_never_a_raw_key():
    texts = {p.name: p.read_text() for p in sorted(GOLDEN.iterdir())}
    assert set(texts) == {golden_path(m, f).name for m in MODES for f in FORMATS}
    for name, text in texts.items():
        for what, key in PLANTED.items():
            assert key not in text, (name, what)
            assert key[8:-4] not in text, (name, what)  # not even the body without its ends
    only = {"history": "history"}  # see the module docstring
    for what, key in PLANTED.items():
        shown = {n for n, t in texts.items() if preview(key) in t and secret_sha256(key) in t}
        modes = [only[what]] if what in only else list(MODES)
        assert shown == {golden_path(m, f).name for m in modes for f in HASHED}, what
