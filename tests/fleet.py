"""Many small real git repositories, fast: one `git fast-import` per repository."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests import keys
from tests.conftest import git, make_repo

Tree = Mapping[str, str | None]  # path -> new content, or None to delete it
EPOCH = 1_700_000_000


def fast_repo(
    path: Path, commits: Sequence[Tree], branch: str = "main", start: int = 0, base: str = ""
) -> Path:
    """Append `commits` to `branch` (from `base`, or from the branch itself when `start` > 0) of
    the repository at `path` (created if needed); `start` numbers the commits' times."""
    if not path.exists():
        make_repo(path)
    parent = git(path, "rev-parse", "--verify", "-q", base or branch) if start or base else ""
    chunks: list[bytes] = []
    for i, tree in enumerate(commits, start):
        when = EPOCH + i * 60
        message = f"change {i}\n".encode()
        head = (f"commit refs/heads/{branch}\n"
                f"author Test <test@example.com> {when} +0000\n"
                f"committer Test <test@example.com> {when} +0000\n").encode()  # fmt: skip
        chunks += [head, b"data %d\n" % len(message), message]
        if parent and i == start:
            chunks.append(f"from {parent}\n".encode())
        for name, text in tree.items():
            if text is None:
                chunks.append(f"D {name}\n".encode())
            else:
                data = text.encode()
                chunks += [
                    f"M 100644 inline {name}\n".encode(),
                    b"data %d\n" % len(data),
                    data,
                    b"\n",
                ]
        chunks.append(b"\n")
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(chunks),
                   check=True, capture_output=True)  # fmt: skip
    return path


def org(top: Path, count: int, shared: str) -> dict[str, str]:
    """`count` repositories under `top`: each leaks its own test key in history only (added, then
    removed), and every third one also holds `shared` (the same live key) at HEAD.
    Returns repository name -> its own key."""
    own = {}
    for i in range(count):
        name = f"repo{i:02d}"
        mine = keys.key("secret", "test", seed=1000 + i)
        own[name] = mine
        commits: list[Tree] = [
            {"README.md": f"# {name}\n", "app.py": "print('hello')\n"},
            {"settings.py": f"STRIPE_KEY = '{mine}'\n"},
            {"settings.py": "import os\nSTRIPE_KEY = os.environ['STRIPE_KEY']\n"},
        ]
        if i % 3 == 0:
            commits.append({"deploy/env.sh": f"export STRIPE_KEY={shared}\n"})
        fast_repo(top / name, commits)
    return own
