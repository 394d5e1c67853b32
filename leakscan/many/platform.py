"""`scan-many github:ORG`, `github:USER`, `gitlab:GROUP`: the repositories an organisation, a user or a
group (with its subgroups) holds, listed through the platform's REST API, filtered, as `RepoSpec`s.

GitHub: `GET /orgs/{org}/repos?type=all` (a 404 there: `GET /users/{user}/repos?type=owner`).
GitLab: `GET /groups/{id}/projects?include_subgroups=true&with_shared=false` (`id` the URL-encoded
path). 100 a page, following `Link` headers (`api.get_pages`).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from leakscan.errors import SourceError, UsageError
from leakscan.many.api import Api, HttpRefusal, checked_base, get_pages
from leakscan.many.repolist import RepoSpec
from leakscan.model import Skipped

PLATFORMS = ("github", "gitlab")
DEFAULT_API = {"github": "https://api.github.com", "gitlab": "https://gitlab.com/api/v4"}
TOKEN_ENV = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN"}
# The user name git sends with the token over https (Basic auth): what each platform documents.
GIT_USER = {"github": "x-access-token", "gitlab": "oauth2"}
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")


class Target(NamedTuple):
    """What `github:acme` names: the platform and the owner (a GitLab owner may be `group/sub`)."""

    platform: str
    owner: str


class Listing(NamedTuple):
    """The options of a listing. `exclude`: a regex searched in each repository's full name."""

    include_forks: bool = False
    include_archived: bool = False
    exclude: re.Pattern[str] | None = None


def parse_target(source: str) -> Target | None:
    """`github:acme` -> Target; None for anything else (a list file or a directory)."""
    platform, sep, owner = source.partition(":")
    if not sep or platform not in PLATFORMS or os.path.exists(source):
        return None
    if not _OWNER.fullmatch(owner) or (platform == "github" and "/" in owner):
        shape = "github:ORG or github:USER" if platform == "github" else "gitlab:GROUP[/SUBGROUP]"
        raise UsageError(f"{source}: name an owner as {shape}.")
    return Target(platform, owner)


def api_base(target: Target, api_url: str | None) -> str:
    """`--api-url`, or the public platform's. A GitLab URL without `/api/v4` gets it, so the
    instance's own address works; GitHub Enterprise is `https://HOST/api/v3`."""
    if api_url is None:
        return DEFAULT_API[target.platform]
    base = checked_base(api_url)
    if target.platform == "gitlab" and not base.endswith("/api/v4"):
        base += "/api/v4"
    return base


def api_headers(platform: str, token: str | None) -> dict[str, str]:
    """The headers each platform documents: the token's, and GitHub's media type and version."""
    if platform == "gitlab":
        return {"PRIVATE-TOKEN": token} if token else {}
    github = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    return {**github, "Authorization": f"Bearer {token}"} if token else github


def list_repositories(
    target: Target, api: Api, listing: Listing, token_env: str
) -> tuple[tuple[RepoSpec, ...], tuple[Skipped, ...]]:
    """The repositories to scan, and what could not be listed or used, each with why. An API that
    refuses the first page is one sentence about the token (`SourceError`); one that fails later
    leaves the pages already read to scan, and the run incomplete (exit 2)."""
    entries: list[object] = []
    bad: list[Skipped] = []
    pages = 0
    try:
        for page in _pages(target, api):
            entries.extend(page)
            pages += 1
    except SourceError as exc:
        reason = refusal(target, exc.status, token_env, _has_token(api)) if isinstance(
            exc, HttpRefusal) else f"{target.platform}:{target.owner}: {exc}"  # fmt: skip
        if not pages:
            raise SourceError(reason) from None
        owner = f"{target.platform}:{target.owner}"
        where = f"{owner} (the listing after page {pages})"
        bad.append(Skipped(where, reason.removeprefix(f"{owner}: ").rstrip("."), incomplete=True))
    specs: dict[str, RepoSpec] = {}
    for entry in entries:
        repo = _repository(target.platform, entry)
        if repo is None or not _wanted(repo, listing):
            continue
        name, url = repo[0], repo[1]
        if not url.startswith(("https://", "http://")):
            bad.append(Skipped(name, "the API gave no https clone URL for it", incomplete=True))
            continue
        specs.setdefault(url, RepoSpec(url, url))
    return tuple(sorted(specs.values())), tuple(bad)


def _pages(target: Target, api: Api) -> Iterator[list[object]]:
    owner = urllib.parse.quote(target.owner, safe="")
    if target.platform == "gitlab":
        query = "include_subgroups=true&with_shared=false&per_page=100&order_by=id&sort=asc"
        yield from get_pages(api, f"/groups/{owner}/projects?{query}")
        return
    first = True
    try:
        for page in get_pages(api, f"/orgs/{owner}/repos?type=all&per_page=100"):
            first = False
            yield page
    except HttpRefusal as exc:
        if exc.status != 404 or not first:
            raise
        yield from get_pages(api, f"/users/{owner}/repos?type=owner&per_page=100")


def _repository(platform: str, entry: object) -> tuple[str, str, bool, bool] | None:
    """(full name, clone URL, fork, archived) of one listed repository; None if it is not one."""
    if not isinstance(entry, Mapping):
        return None
    if platform == "gitlab":
        name, url = entry.get("path_with_namespace"), entry.get("http_url_to_repo")
        fork = bool(entry.get("forked_from_project"))
    else:
        name, url = entry.get("full_name"), entry.get("clone_url")
        fork = bool(entry.get("fork"))
    if not isinstance(name, str) or not name:
        return None
    return name, url if isinstance(url, str) else "", fork, bool(entry.get("archived"))


def _wanted(repo: tuple[str, str, bool, bool], listing: Listing) -> bool:
    name, _, fork, archived = repo
    if fork and not listing.include_forks:
        return False
    if archived and not listing.include_archived:
        return False
    return listing.exclude is None or not listing.exclude.search(name)


def refusal(target: Target, status: int, token_env: str, has_token: bool) -> str:
    """One sentence for an API that refused the listing: what to do about the token."""
    where = f"{target.platform}:{target.owner}"
    if status == 401:
        return (f"{where}: the API rejected the token in ${token_env} (HTTP 401); it is invalid, "
                "expired or revoked: create a new one.")  # fmt: skip
    if status == 404:
        hint = "" if has_token else f"; a private one needs a token in ${token_env}"
        return f"{where}: no such {_owner_kind(target)} is visible (HTTP 404){hint}."
    if status == 403 and target.platform == "gitlab":
        return (f"{where}: the API refused to list the group (HTTP 403); the token in ${token_env} "
                "needs the read_api scope (and read_repository to clone).")  # fmt: skip
    if status == 403:
        return (f"{where}: the API refused to list the repositories (HTTP 403); the token in "
                f"${token_env} needs the repo and read:org scopes (classic) or read access to "
                "Metadata and Contents (fine-grained), and SSO authorization if the "
                "organisation enforces it.")  # fmt: skip
    return f"{where}: the API answered HTTP {status} to the listing; check --api-url."


def _has_token(api: Api) -> bool:
    return "Authorization" in api.headers or "PRIVATE-TOKEN" in api.headers


def _owner_kind(target: Target) -> str:
    return "group" if target.platform == "gitlab" else "organisation or user"
