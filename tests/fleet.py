"""Many small real git repositories, fast: one `git fast-import` per repository."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

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


class Truth(NamedTuple):
    """What `simulated_org` planted: each key's repositories (those that can be scanned), and the
    corrupt repositories."""

    planted: dict[str, set[str]]
    corrupt: set[str]


def simulated_org(top: Path, count: int) -> Truth:
    """`count` small repositories under `top`, the way an organisation looks: most hold no key; every
    tenth leaks its own test key in history only; two live keys are shared (at HEAD) by every
    twentieth and every twenty-fifth repository; every 97th is corrupt (a blob of HEAD is gone)."""
    shared = (keys.key("secret", "live", seed=71), keys.key("restricted", "live", seed=72))
    planted: dict[str, set[str]] = {}
    corrupt: set[str] = set()
    for i in range(count):
        name = f"r{i:04d}"
        commits: list[Tree] = [
            {"README.md": f"# {name}\n", "app.py": f"print({i})\n"},
            {"lib/util.py": f"def f():\n    return {i}\n", "app.py": f"print({i + 1})\n"},
        ]
        if i % 10 == 7:
            mine = keys.key("secret", "test", seed=5000 + i)
            commits += [{"config.py": f"KEY = '{mine}'\n"}, {"config.py": None}]
            planted.setdefault(mine, set()).add(name)
        for key, every, offset in ((shared[0], 20, 3), (shared[1], 25, 11)):
            if i % every == offset:
                commits.append({f"deploy/{every}.env": f"STRIPE_KEY={key}\n"})
                planted.setdefault(key, set()).add(name)
        fast_repo(top / name, commits)
        if i % 97 == 13:
            _corrupt(top / name)
            corrupt.add(name)
    kept = {k: names - corrupt for k, names in planted.items() if names - corrupt}
    return Truth(kept, corrupt)


def _corrupt(repo: Path) -> None:
    """Delete the blob of `app.py` at HEAD (fast-import writes a small history as loose objects; a
    pack, if there is one, is unpacked first)."""
    pack_dir = repo / ".git" / "objects" / "pack"
    for pack in list(pack_dir.glob("*.pack")):
        data = pack.read_bytes()
        for f in pack_dir.glob(pack.stem + ".*"):
            f.unlink()
        subprocess.run(["git", "-C", str(repo), "unpack-objects", "-q"], input=data, check=True)
    oid = git(repo, "rev-parse", "main:app.py")
    (repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()


def add_commits(repo: Path, count: int, key: str = "") -> None:
    """`count` new commits on main (the last one adds `key`, if given): a night's work."""
    have = int(git(repo, "rev-list", "--count", "main"))
    commits: list[Tree] = [{f"src/n{have + j}.py": f"X = {have + j}\n"} for j in range(count)]
    if key:
        commits[-1] = {**commits[-1], "settings/prod.env": f"STRIPE_KEY={key}\n"}
    fast_repo(repo, commits, start=have)
