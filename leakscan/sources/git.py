"""The one git runner: every git process leakscan starts is started here, with one hardened environment
(`git_env`), every failure becomes one sentence (SourceError), and blob bytes are streamed in bulk.

Only the git CLI is used (no pygit2): `git cat-file --batch` reads blobs several times faster than
libgit2 one by one, a ref question costs a 2-4 ms git process against ~90 ms to import pygit2, and the
staged path must start fast (docs/performance.md, docs/decisions.md "One git runner").
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

from leakscan.errors import SourceError

if TYPE_CHECKING:
    from typing import IO

    from leakscan.model import StrPath

Process = subprocess.Popen[bytes]
Completed = subprocess.CompletedProcess[bytes]
NOT_INSTALLED = "git is not installed or not on PATH; install git and try again."
# A scanned repository is untrusted: neither its config (.git/config and what it includes) nor its
# .gitattributes may make git run a command, prompt, or reach the network. Command-line scope (these
# GIT_CONFIG_* entries, what `git -c` sets) wins over every config file. docs/security.md lists them.
HARDENING = {
    "core.fsmonitor": "false",  # run by every command that reads the index
    "core.hooksPath": "/dev/null",  # no hooks (clone's reference-transaction, a gc --auto's)
    "core.pager": "cat",
    "core.askPass": "",
    "core.sshCommand": "ssh -o BatchMode=yes",  # never a repository's, never a passphrase prompt
    "diff.external": "",  # a diff that forgot --no-ext-diff fails instead of running the repo's
    "core.attributesFile": "/dev/null",
    "protocol.allow": "never",  # no network: a lazy fetch fails even where GIT_NO_LAZY_FETCH is unknown
}
# Protocols named one by one too: a `protocol.<name>.allow` in any config beats `protocol.allow`.
# Only a clone (`network=True`) may use these four; `ext::` (runs a command) and plain http never.
CLONE_PROTOCOLS = ("https", "ssh", "git", "file")
PROTOCOLS = (*CLONE_PROTOCOLS, "http", "ext")
_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",  # a worker or a hook has no terminal: fail instead of hanging
    "GIT_ASKPASS": "",  # empty beats core.askPass and SSH_ASKPASS: no prompt program
    "SSH_ASKPASS": "",
    "GCM_INTERACTIVE": "never",  # Git Credential Manager: no dialogs
    "GIT_PAGER": "cat",
    "GIT_NO_LAZY_FETCH": "1",  # a partial clone's missing objects are never fetched (git >= 2.44)
    "GIT_OPTIONAL_LOCKS": "0",  # reading never writes the index
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",  # scan what the objects hold, not what `git replace` or grafts show
}
_UNSET = ("GIT_EXTERNAL_DIFF",)
WINDOW = 256  # object ids in flight in one `cat-file --batch` (bounded so neither pipe fills up)
BULK_PIPE = 1 << 20  # git's output pipe when many blobs are read (Linux's default ceiling for it)
CORRUPT_HINT = "the repository is corrupt or incomplete; run `git fsck` on it"
# Every git run is held to a fixed amount of memory, whatever the history's size or the repository's
# own config says (command-line scope wins over it): git's cache of inflated delta bases (default 96
# MiB, the largest part of a `cat-file --batch`'s RSS) and its mmapped pack windows (default: whole
# packs, up to 8 GiB, and every page touched counts as RSS). Blobs are read in delta-chain order
# (`history.all_objects`), so a small cache is enough; values and their cost in docs/performance.md.
MEMORY_BOUNDS = {
    "core.deltaBaseCacheLimit": "8m",
    "core.packedGitLimit": "32m",
    "core.packedGitWindowSize": "4m",
}
# The reachability walk reads trees in commit order, a few windows at a time: smaller windows cost it
# nothing and keep it under the blob readers (it also holds a table of every object it walks).
WALK_BOUNDS = {**MEMORY_BOUNDS, "core.packedGitLimit": "16m", "core.packedGitWindowSize": "2m"}
# The object listing reads every object's header, all over the pack: 4 MiB windows made it remap
# constantly (synth: 0.27 s instead of 0.04 s, sqlalchemy 1.2 s instead of 1.0 s, serial before any
# blob is read). 64m/16m keeps it bounded (~70-85 MB) and ends the thrashing.
LISTING_BOUNDS = {**MEMORY_BOUNDS, "core.packedGitLimit": "64m", "core.packedGitWindowSize": "16m"}


class BlobRef(NamedTuple):
    """A blob to read: its id and size (from `git cat-file --batch-check`)."""

    oid: str
    size: int


def git_env(
    bounds: Mapping[str, str] = MEMORY_BOUNDS,
    *,
    network: bool = False,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of every git run: HARDENING and `bounds` in command-line scope, after (so
    over) any `GIT_CONFIG_*` the user set. `network`: a clone or fetch, which may use
    CLONE_PROTOCOLS. `extra`: more command-line config, last (a token's header, kept out of argv)."""
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    env.update(_ENV)
    count = env.get("GIT_CONFIG_COUNT", "0")
    n = int(count) if count.isdigit() else 0
    allowed = CLONE_PROTOCOLS if network else ()
    protocols = {f"protocol.{p}.allow": "always" if p in allowed else "never" for p in PROTOCOLS}
    for key, value in {**HARDENING, **protocols, **bounds, **(extra or {})}.items():
        env.update({f"GIT_CONFIG_KEY_{n}": key, f"GIT_CONFIG_VALUE_{n}": value})
        n += 1
    env["GIT_CONFIG_COUNT"] = str(n)
    return env


def run(
    args: Sequence[str],
    *,
    stdin: bytes | None = None,
    network: bool = False,
    extra: Mapping[str, str] | None = None,
) -> Completed:
    """`git ARGS` (the caller puts `-C DIR` or `--git-dir=DIR` first), output captured. Only git
    missing from PATH (or not runnable) raises, as a sentence; the caller reads the exit status."""
    try:
        return subprocess.run(
            ["git", *args], input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True, env=git_env(network=network, extra=extra), check=False,
        )  # fmt: skip
    except OSError as exc:
        raise SourceError(_not_runnable(exc)) from None


def start(
    args: Sequence[str],
    *,
    stdin: bool = False,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
    bounds: Mapping[str, str] = MEMORY_BOUNDS,
    bufsize: int = -1,
    network: bool = False,
) -> Process:
    """A running `git ARGS`: stdin a pipe if `stdin`, else /dev/null; stdout and stderr the files
    given, else pipes; `network` as for `run`. git missing from PATH raises a sentence."""
    try:
        return subprocess.Popen(
            ["git", *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=subprocess.PIPE if stderr is None else stderr,
            env=git_env(bounds, network=network), bufsize=bufsize,
        )  # fmt: skip
    except OSError as exc:
        raise SourceError(_not_runnable(exc)) from None


def _not_runnable(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return NOT_INSTALLED
    return f"git could not be run ({exc.strerror or exc}); is it installed?"


def rev_parse(where: StrPath, *args: str) -> Completed:
    """`git -C WHERE rev-parse ARGS`; git missing from PATH is a sentence, not a traceback."""
    return run(["-C", os.fspath(where), "rev-parse", *args])


def run_git(git_dir: str, args: Sequence[str], what: str, stdin: bytes | None = None) -> bytes:
    """stdout of `git --git-dir=GIT_DIR ARGS`; a failure raises SourceError saying what could not be done."""
    proc = run([f"--git-dir={git_dir}", *args], stdin=stdin)
    if proc.returncode != 0:
        raise SourceError(failure(git_dir, what, proc.stderr, proc.returncode))
    return proc.stdout


def scratch_file() -> IO[bytes]:
    """An anonymous file for a git's stderr (more than a pipe holds must not block git while stdout is
    read). Linux's O_TMPFILE directly; `tempfile` elsewhere (its imports cost a staged scan ~9 ms)."""
    flag = getattr(os, "O_TMPFILE", 0)
    if flag:
        try:
            directory = os.environ.get("TMPDIR") or "/tmp"
            return os.fdopen(os.open(directory, os.O_RDWR | flag, 0o600), "w+b")
        except OSError:
            pass
    import tempfile

    return tempfile.TemporaryFile()


def git_lines(
    git_dir: str, args: Sequence[str], what: str, bounds: Mapping[str, str] = MEMORY_BOUNDS
) -> Iterator[bytes]:
    """The lines of `git --git-dir=GIT_DIR ARGS`, streamed (never the whole output in memory at once);
    a failure raises SourceError once the output ends."""
    with scratch_file() as errors:
        proc = start([f"--git-dir={git_dir}", *args], stderr=errors, bounds=bounds)
        assert proc.stdout is not None
        finished = False
        try:
            yield from proc.stdout
            finished = True
        finally:
            proc.stdout.close()
            if (
                proc.poll() is None and not finished
            ):  # the reader stopped early: do not wait for git
                proc.kill()
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            raise SourceError(failure(git_dir, what, errors.read(), code))


def failure(git_dir: str, what: str, stderr: bytes, code: int | None) -> str:
    """`<repo>: git could not <what> (<git's last line>); <hint>.`"""
    detail = last_line(stderr) or f"exit status {code}"
    hint = ""
    lowered = detail.lower()
    if any(w in lowered for w in ("corrupt", "missing", "bad object", "inflate", "does not exist",
                                  "unable to read", "packfile", "loose object", "bad file")):  # fmt: skip
        hint = f"; {CORRUPT_HINT}"
    return f"{repo_name(git_dir)}: git could not {what} ({detail}){hint}."


def last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in os.fsdecode(stderr).splitlines() if ln.strip()]
    if not lines:
        return ""
    line = lines[-1]
    for prefix in ("fatal: ", "error: "):
        line = line.removeprefix(prefix)
    return line.rstrip(".")


def repo_name(git_dir: str) -> str:
    """The repository as a user names it: the work tree for `…/.git`, else the git directory."""
    path = git_dir.rstrip(os.sep) or git_dir
    parent, name = os.path.split(path)
    return (parent or ".") if name == ".git" else path


Reader = Callable[[Sequence[str], "int | None"], Iterator[tuple[str, "bytes | None"]]]


def cat_blobs(
    git_dir: str, oids: Sequence[str], max_size: int | None = None
) -> Iterator[tuple[str, bytes | None]]:
    """(oid, bytes) for each oid, in order, through one `git cat-file --batch`; one blob in memory at a
    time. A blob larger than `max_size` is drained unread and yields None."""
    if not oids:
        return
    with cat_file(git_dir) as read:
        yield from read(oids, max_size)


@contextmanager
def cat_file(git_dir: str, *, bulk: bool = False) -> Iterator[Reader]:
    """A running `git cat-file --batch` as a function `read(oids, max_size)`; it can be called many
    times (a worker keeps one for all its chunks: git's delta-base cache and pack maps carry over).
    `bulk`: many blobs will be read, so git's output pipe is made 1 MiB (Linux), not 64 KiB: a
    sixteenth of the reads and context switches, ~25 % less of this process's CPU on the synthetic
    history (0.34 -> 0.26 s for its 464 MB; docs/performance.md)."""
    with scratch_file() as errors:
        # no --filters and no --textconv: the bytes as stored, never through a repository's driver
        proc = start([f"--git-dir={git_dir}", "cat-file", "--batch"], stdin=True, stderr=errors,
                     bufsize=1 << 20)  # fmt: skip
        if bulk:
            _widen(proc)

        def read(oids: Sequence[str], max_size: int | None) -> Iterator[tuple[str, bytes | None]]:
            try:
                yield from _read(proc, errors, git_dir, oids, max_size)
            except BrokenPipeError:
                raise SourceError(_died(proc, errors, git_dir)) from None

        try:
            yield read
            assert proc.stdin is not None
            proc.stdin.close()
            if proc.wait() != 0:
                raise SourceError(_died(proc, errors, git_dir))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                try:
                    pipe.close()  # type: ignore[union-attr]
                except OSError:
                    pass


def _read(
    proc: Process,
    errors: IO[bytes],
    git_dir: str,
    oids: Sequence[str],
    max_size: int | None,
) -> Iterator[tuple[str, bytes | None]]:
    """Ids are written a window ahead of the reads, so neither pipe fills up and no thread is needed."""
    stdin, stdout = proc.stdin, proc.stdout
    assert stdin is not None and stdout is not None
    sent = 0
    for i, oid in enumerate(oids):
        if sent < len(oids) and sent - i < WINDOW // 2:
            upto = min(len(oids), i + WINDOW)
            stdin.write("".join(o + "\n" for o in oids[sent:upto]).encode("ascii"))
            stdin.flush()
            sent = upto
        fields = stdout.readline().split()
        if len(fields) == 2 and fields[1] == b"missing":
            raise SourceError(f"{repo_name(git_dir)}: git cannot read object {oid} (it is missing or "
                              f"corrupt); {CORRUPT_HINT}.")  # fmt: skip
        if len(fields) != 3:
            raise SourceError(_died(proc, errors, git_dir))
        size = int(fields[2])
        data: bytes | None = None
        if max_size is not None and size > max_size:
            _skip(stdout, size)
        else:
            data = stdout.read(size)
        if (data is not None and len(data) != size) or stdout.read(1) != b"\n":
            raise SourceError(_died(proc, errors, git_dir))
        yield oid, data


def _skip(stream: IO[bytes], size: int) -> None:
    while size > 0:
        got = len(stream.read(min(size, 1 << 20)))
        if not got:
            break
        size -= got


def _widen(proc: Process) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: the default pipe
        return
    size_op = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if size_op is None or proc.stdout is None:
        return
    try:
        fcntl.fcntl(proc.stdout.fileno(), size_op, BULK_PIPE)
    except OSError:  # above /proc/sys/fs/pipe-max-size, or a pipe quota: the default size works too
        pass


def _died(proc: Process, errors: IO[bytes], git_dir: str) -> str:
    if proc.poll() is None:
        proc.kill()
    code = proc.wait()
    errors.seek(0)
    return failure(git_dir, "read the blobs", errors.read(), code)


def changed_in_range(repo: StrPath, spec: str, names: Sequence[str]) -> tuple[str, ...] | None:
    """Which of `names` (paths from the repository's root) BASE..HEAD adds, changes or deletes;
    None when git cannot compare them (a base missing from the clone: the range scan says so)."""
    proc = run(["-C", os.fspath(repo), "diff", "--name-only", "--no-renames", "--no-ext-diff",
                "--no-textconv", spec, "--", *(f":(literal){n}" for n in names)])  # fmt: skip
    if proc.returncode != 0:
        return None
    return tuple(sorted(line for line in proc.stdout.decode("utf-8", "replace").splitlines()))


def file_at(repo: StrPath, commit: str, path: str) -> bytes | None:
    """The bytes of `path` in `commit`, or None when that commit has no such file."""
    proc = run(["-C", os.fspath(repo), "cat-file", "blob", f"{commit}:{path}"])
    return proc.stdout if proc.returncode == 0 else None
