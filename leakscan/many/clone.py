"""Getting one repository of a `scan-many` run onto the worker: a local path is opened where it is; a
clone URL is cloned bare (every branch and tag) into a temporary directory, or, with `--cache-dir`,
kept there as a bare mirror that later runs bring up to date with `git fetch --prune`.

A token reaches git only through the environment (`http.<origin>/.extraHeader` as command-line
config in `GIT_CONFIG_*`), never through argv, a URL or a file: the mirror's config keeps the URL
without it. The task carries the *name* of the variable that holds it, never the token.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import tempfile
import urllib.parse
from pathlib import Path
from typing import NamedTuple

from leakscan.errors import SourceError
from leakscan.many.repolist import RepoSpec, without_password
from leakscan.sources.git import run
from leakscan.verify.client import is_loopback

REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")  # what a bare clone holds


class Access(NamedTuple):
    """How a task gets the repositories behind clone URLs.

    cache_dir: where bare mirrors are kept between runs (None: a temporary clone per task).
    token_env: the environment variable that holds the token (None: no token).
    git_user: the user name sent with the token (`x-access-token` GitHub, `oauth2` GitLab).
    token_hosts: the only hosts the token is sent to (the platform's; never another clone URL's).
    """

    cache_dir: str | None = None
    token_env: str | None = None
    git_user: str = "x-access-token"
    token_hosts: tuple[str, ...] = ()


class Copy(NamedTuple):
    path: Path
    how: str  # "local" (opened in place), "cloned", "fetched", or "cached" (used as it is)


def local_copy(
    spec: RepoSpec, scratch: Path, access: Access | None = None, refresh: bool = True
) -> Copy:
    """The repository: `spec.location` itself, a fresh bare clone under `scratch`, or the mirror in
    the cache (fetched first unless `refresh` is False: another task of this run just did). The
    clone or fetch is the one git run allowed on the network (https, ssh, git, file; http to a
    loopback address; never a prompt)."""
    access = access or Access()
    if not spec.is_url:
        if not os.path.isdir(spec.location):
            raise SourceError("no such directory; check the path in the repository list.")
        return Copy(Path(spec.location), "local")
    extra = git_auth(spec.location, access)
    if access.cache_dir is None:
        return Copy(_clone(spec, scratch / "repo.git", extra, access), "cloned")
    mirror = Path(access.cache_dir) / mirror_name(spec.key)
    if not mirror.exists():
        return Copy(_clone_into_cache(spec, mirror, extra, access), "cloned")
    if not refresh:
        return Copy(mirror, "cached")
    cmd = [f"--git-dir={mirror}", "fetch", "--prune", "--quiet", "--no-write-fetch-head", "--",
           spec.location, *REFSPECS]  # fmt: skip
    proc = run(cmd, network=True, extra=extra)
    if proc.returncode != 0:
        detail = _detail(proc.stderr, proc.returncode, spec, access)
        raise SourceError(f"git could not fetch it into {mirror} ({detail}); delete that "
                          "directory to clone it again.")  # fmt: skip
    return Copy(mirror, "fetched")


def mirror_name(key: str) -> str:
    """`https://github.com/acme/api.git` -> `github.com_acme_api-<12 hex>.git`: readable, and no
    two URLs share one (the hash of the whole URL)."""
    parts = urllib.parse.urlsplit(key)
    readable = f"{parts.hostname or ''}{parts.path}".removesuffix(".git") or key
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", readable).strip("._")[:80] or "repo"
    return f"{slug}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:12]}.git"


def git_auth(url: str, access: Access) -> dict[str, str]:
    """Command-line config for one clone or fetch of `url`: the token as an `Authorization` header
    scoped to the URL's origin when that host may have it; plain http allowed to loopback only."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    loopback_http = parts.scheme == "http" and is_loopback(host)
    extra = {"protocol.http.allow": "always"} if loopback_http else {}
    token = os.environ.get(access.token_env, "") if access.token_env else ""
    if token and host in access.token_hosts and (parts.scheme == "https" or loopback_http):
        basic = base64.b64encode(f"{access.git_user}:{token}".encode()).decode("ascii")
        origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/"
        extra[f"http.{origin}.extraHeader"] = f"Authorization: Basic {basic}"
        extra["http.followRedirects"] = "false"  # a redirect elsewhere never takes the header along
    return extra


def _clone(spec: RepoSpec, target: Path, extra: dict[str, str], access: Access) -> Path:
    cmd = ["clone", "--bare", "--quiet", "--no-hardlinks", "--", spec.location, str(target)]
    proc = run(cmd, network=True, extra=extra)
    if proc.returncode != 0:
        raise SourceError(
            f"git could not clone it ({_detail(proc.stderr, proc.returncode, spec, access)})."
        )
    if spec.location != spec.name:  # a password in the URL: the mirror's config does not keep it
        run([f"--git-dir={target}", "config", "remote.origin.url", without_password(spec.location)])
    return target


def _clone_into_cache(spec: RepoSpec, mirror: Path, extra: dict[str, str], access: Access) -> Path:
    """Clone beside the mirror, then rename: an interrupted clone never leaves a half mirror, and
    of two runs cloning at once, the first rename wins and the other's copy is dropped."""
    try:
        mirror.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".clone-", dir=mirror.parent))
    except OSError as exc:
        raise SourceError(f"cannot write to the cache directory ({exc.strerror or exc}).") from None
    try:
        done = _clone(spec, scratch / "repo.git", extra, access)
        try:
            os.rename(done, mirror)
        except OSError:
            if not mirror.is_dir():
                raise SourceError("cannot move the clone into the cache directory.") from None
        return mirror
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _detail(stderr: bytes, code: int, spec: RepoSpec, access: Access) -> str:
    """git's own reason, with the URL shown as the repository's name and no token in it."""
    detail = _first_fatal(stderr) or f"exit status {code}"
    detail = detail.replace(spec.location, spec.name)
    token = os.environ.get(access.token_env, "") if access.token_env else ""
    return detail.replace(token, "***") if token else detail


def _first_fatal(stderr: bytes) -> str:
    """git's own reason (`fatal: …`), not the advice lines it prints after it."""
    lines = [ln.strip() for ln in os.fsdecode(stderr).splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith("fatal: ")]
    line = (fatal or lines or [""])[0]
    return line.removeprefix("fatal: ").rstrip(".")
