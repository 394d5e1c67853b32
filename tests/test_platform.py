"""`scan-many github:ORG` / `gitlab:GROUP` against a loopback forge: listing with pages, rate limits and
refusals, clones over real smart HTTP into a cache that later runs fetch, and the token nowhere."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from leakscan.many.api import next_link, retry_after
from tests import keys
from tests.conftest import LEAKSCAN, git, sha256
from tests.fleet import fast_repo
from tests.forge import Forge, github_repo, gitlab_project, rate_limited, serving

TOKEN = "ghp_" + "forgetoken" + "0123456789abcdefABCDEF"  # a made-up token the forge expects
LIVE = keys.key("secret", "live", seed=424)
COUNT = 30
LEAKY = "svc17"


def leakscan(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITLAB_TOKEN")}
    return subprocess.run([*LEAKSCAN, "scan-many", *args], capture_output=True, text=True,
                          env={**full, **(env or {})}, timeout=300, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 small repositories; one holds a live key at HEAD."""
    root = tmp_path_factory.mktemp("hosted")
    for i in range(COUNT):
        name = f"svc{i:02d}"
        commits: list[dict[str, str | None]] = [{"README.md": f"# {name}\n"}]
        if name == LEAKY:
            commits.append({"config/prod.env": f"STRIPE_SECRET_KEY={LIVE}\n"})
        fast_repo(root / name, commits)
    return root


def _org(forge: Forge) -> None:
    listed = [github_repo(forge, f"svc{i:02d}") for i in range(COUNT)]
    listed += [github_repo(forge, "a-fork", fork=True), github_repo(forge, "old", archived=True),
               github_repo(forge, "scratch-demo")]  # fmt: skip
    forge.repos["/api/orgs/acme/repos"] = listed


def test_an_organisation_is_scanned_then_fetched_and_the_token_appears_nowhere(hosted, tmp_path):
    cache, state, report = tmp_path / "cache", tmp_path / "state.json", tmp_path / "leaks.json"
    with serving(Forge(hosted, TOKEN)) as forge:
        _org(forge)
        forge.faults["/api/orgs/acme/repos?type=all&per_page=100&page=2"] = [rate_limited()]
        args = ["github:acme", "--api-url", f"{forge.url}/api", "--cache-dir", str(cache),
                "--state", str(state), "--exclude", "^acme/scratch-", "-j", "2",
                "--format", "json", "-o", str(report), "-v"]  # fmt: skip
        started = time.monotonic()
        first = leakscan(*args, env={"GITHUB_TOKEN": TOKEN})
        first_seconds = time.monotonic() - started
        first_doc = json.loads(report.read_text())
        first_log = list(forge.log)
        forge.log.clear()
        second = leakscan(*args, env={"GITHUB_TOKEN": TOKEN})
        second_doc = json.loads(report.read_text())
    assert first.returncode == 1, first.stderr
    (f,) = first_doc["findings"]
    assert (f["secret_sha256"], f["status"]) == (sha256(LIVE), "new")
    assert f["locations"][0]["repository"] == forge.clone_url(LEAKY)
    assert "30 repositories: 30 scanned in full" in first.stderr
    assert "clone URLs: 30 cloned, 0 fetched" in first.stderr
    pages = [p for m, p, _ in first_log if p.startswith("/api/orgs/acme/repos")]
    assert len(pages) == 4 and pages[1] == pages[2]  # page 2 again after the rate limit reset
    assert forge.git_commands[:60].count("fetch") == 30  # one pack for each of the 30 clones
    # the second run: a fetch of each mirror, nothing new to download or scan, the key still open
    assert second.returncode == 1, second.stderr
    assert "clone URLs: 0 cloned, 30 fetched" in second.stderr
    assert "0 scanned in full, 30 since the last run" in second.stderr
    # refs unchanged: each fetch asked for the refs only, and no pack
    assert forge.git_commands[60:] == ["ls-refs"] * COUNT
    assert second_doc["scan"]["blobs"] == 0 and second_doc["findings"][0]["status"] == "open"
    assert len(list(cache.glob("*.git"))) == COUNT
    git_auth = {a for _, p, a in first_log + forge.log if p.startswith("/git/")}
    assert len(git_auth) == 1 and git_auth.pop().startswith("Basic ")  # every git request had it
    # the token: never in an output, the report, the state, the cache, a URL the forge saw
    seen = [first.stdout, first.stderr, second.stdout, second.stderr, report.read_text(),
            state.read_text(), *(p for _, p, _ in first_log + forge.log)]  # fmt: skip
    assert not [s for s in seen if TOKEN in s]
    cached = [p for p in cache.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert cached == [] and LIVE not in state.read_text() + report.read_text()
    assert first_seconds > 0.9  # it did wait for the rate limit's reset


def test_a_gitlab_group_with_subgroups_and_a_repository_that_cannot_be_cloned(hosted, tmp_path):
    """Also: repositories split into shards clone once; the shards read the mirror as it is."""
    with serving(Forge(hosted, TOKEN, page_size=2)) as forge:
        forge.repos["/gl/api/v4/groups/acme%2Fplatform/projects"] = [
            gitlab_project(forge, "acme/platform/svc01"),
            gitlab_project(forge, f"acme/platform/payments/{LEAKY}"),
            gitlab_project(forge, "acme/platform/svc02", archived=True),
            gitlab_project(forge, "acme/platform/gone"),  # listed, but the clone fails
            gitlab_project(forge, "acme/platform/svc03", forked_from_project={"id": 1}),
        ]
        result = leakscan("gitlab:acme/platform", "--api-url", f"{forge.url}/gl", "--token-env",
                          "CI_SCAN_TOKEN", "--format", "json", "-j", "2", "--cache-dir",
                          str(tmp_path / "cache"), "--shard-size", "10",
                          env={"CI_SCAN_TOKEN": TOKEN})  # fmt: skip
        query = next(p for _, p, _ in forge.log if p.startswith("/gl/"))
    assert result.returncode == 2, result.stderr
    assert "include_subgroups=true" in query
    doc = json.loads(result.stdout)
    assert [loc["repository"] for f in doc["findings"] for loc in f["locations"]] == [
        forge.clone_url(LEAKY)
    ]
    failed = [k for k in doc["scan"]["skipped"] if k["incomplete"]]
    assert [k["path"] for k in failed] == [forge.clone_url("gone")]
    assert "1 of 3 repositories could not be scanned" in result.stderr
    assert "clone URLs: 2 cloned, 0 fetched" in doc["scan"]["notes"]
    assert forge.git_commands.count("fetch") == 2  # one pack per repository, however many shards
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("status", "headers", "sentence"),
    [
        (401, {}, "the API rejected the token in $GITHUB_TOKEN (HTTP 401)"),
        (403, {"X-RateLimit-Remaining": "4999"}, "needs the repo and read:org scopes"),
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3600)},
         "more than the 5 s --rate-limit-wait allows"),
    ],
)  # fmt: skip
def test_api_refusals_are_one_sentence_and_exit_2(hosted, status, headers, sentence):
    with serving(Forge(hosted, TOKEN)) as forge:
        _org(forge)
        forge.faults["/api/orgs/"] = [(status, headers)]
        result = leakscan("github:acme", "--api-url", f"{forge.url}/api", "--rate-limit-wait",
                          "5", env={"GITHUB_TOKEN": TOKEN})  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("leakscan: error: ") and sentence in line and TOKEN not in line


def test_a_listing_that_fails_after_its_first_page_scans_what_it_got_and_exits_2(hosted):
    with serving(Forge(hosted, TOKEN)) as forge:
        _org(forge)
        forge.faults["/api/orgs/acme/repos?type=all&per_page=100&page=3"] = [(401, {})]
        forge.repos["/api/orgs/acme/repos"].insert(0, github_repo(forge, "no-url", clone_url=None))
        result = leakscan("github:acme", "--api-url", f"{forge.url}/api", "--format", "json",
                          "-j", "2", env={"GITHUB_TOKEN": TOKEN})  # fmt: skip
    assert result.returncode == 2, result.stderr
    doc = json.loads(result.stdout)
    failed = {k["path"]: k["reason"] for k in doc["scan"]["skipped"] if k["incomplete"]}
    assert failed == {
        "github:acme (the listing after page 2)": (
            "the API rejected the token in $GITHUB_TOKEN (HTTP 401); it is invalid, "
            "expired or revoked: create a new one"),
        "acme/no-url": "the API gave no https clone URL for it",
    }  # fmt: skip
    assert "23 repositories: 23 scanned in full" in doc["scan"]["notes"][0]  # pages 1 and 2
    assert "2 of 25 repositories could not be scanned" in result.stderr


def test_the_token_goes_to_the_api_host_only(hosted):
    """A clone URL or a next-page link on another host (here `localhost` for `127.0.0.1`) gets no
    token: the clone is refused by the server and reported; the listing stops with a sentence."""
    with serving(Forge(hosted, TOKEN)) as forge:
        elsewhere = forge.url.replace("127.0.0.1", "localhost")
        forge.repos["/api/orgs/acme/repos"] = [
            github_repo(forge, "svc00"),
            github_repo(forge, LEAKY, clone_url=f"{elsewhere}/git/{LEAKY}"),
        ]
        result = leakscan("github:acme", "--api-url", f"{forge.url}/api", "--format", "json",
                          env={"GITHUB_TOKEN": TOKEN})  # fmt: skip
        sent = {a for _, p, a in forge.log if p.startswith(f"/git/{LEAKY}")}
        forge.log.clear()
        forge.link_url, forge.page_size = elsewhere, 1
        paged = leakscan("github:acme", "--api-url", f"{forge.url}/api", "--format", "json",
                         env={"GITHUB_TOKEN": TOKEN})  # fmt: skip
        asked = [p for _, p, _ in forge.log if p.startswith("/api/")]
    assert result.returncode == 2 and sent == {""}  # no Authorization header at all
    (failed,) = [k for k in json.loads(result.stdout)["scan"]["skipped"] if k["incomplete"]]
    assert failed["path"] == f"{elsewhere}/git/{LEAKY}" and "could not clone" in failed["reason"]
    assert paged.returncode == 2 and len(asked) == 1  # page 1; page 2 never requested
    assert "the API's next-page link points to another host" in paged.stderr


def test_a_user_is_listed_when_no_organisation_has_the_name(hosted):
    """Also: forks and archived repositories are scanned when asked for."""
    with serving(Forge(hosted, TOKEN)) as forge:
        forge.repos["/api/users/octo/repos"] = [
            github_repo(forge, "svc00"), github_repo(forge, "svc01", fork=True),
            github_repo(forge, "svc02", archived=True)]  # fmt: skip
        result = leakscan("github:octo", "--api-url", f"{forge.url}/api", "--format", "json",
                          "--include-forks", "--include-archived", env={"GITHUB_TOKEN": TOKEN})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["scan"]["notes"][0].startswith("3 repositories: 3 scanned")
    assert [p.partition("?")[0] for _, p, _ in forge.log][:2] == [
        "/api/orgs/octo/repos", "/api/users/octo/repos"
    ]  # fmt: skip


def test_the_cache_fetches_new_commits_and_prunes_deleted_branches(tmp_path):
    """A list of clone URLs uses the cache too: the second run fetches (a deleted branch goes, a new
    commit comes) and, with --state, scans only the new blob."""
    origin = fast_repo(tmp_path / "origin", [{"a.txt": "one\n"}])
    fast_repo(origin, [{"b.txt": "two\n"}], branch="topic", start=5, base="main")
    listing = tmp_path / "repos.txt"
    listing.write_text(f"file://{origin}\n")
    args = [str(listing), "--cache-dir", str(tmp_path / "cache"), "--state",
            str(tmp_path / "state.json"), "--format", "json", "-j", "1"]  # fmt: skip
    first = leakscan(*args)
    assert first.returncode == 0 and "clone URLs: 1 cloned, 0 fetched" in first.stdout
    git(origin, "branch", "-D", "topic")
    fast_repo(origin, [{"c.py": f"KEY = '{LIVE}'\n"}], start=10)
    second = leakscan(*args)
    doc = json.loads(second.stdout)
    assert second.returncode == 1 and "clone URLs: 0 cloned, 1 fetched" in doc["scan"]["notes"]
    assert doc["scan"]["blobs"] == 1 and doc["findings"][0]["status"] == "new"
    (mirror,) = (tmp_path / "cache").glob("*.git")
    assert git(mirror, "for-each-ref", "--format=%(refname)") == "refs/heads/main"


def test_bad_api_urls_tokens_and_owners_are_usage_errors(tmp_path):
    cases = [
        (["github:acme", "--api-url", "http://example.com/api"], "https:// URL"),
        (["github:acme", "--token-env", "NOT_SET_ANYWHERE"], "NOT_SET_ANYWHERE"),
        (["github:acme/sub"], "github:ORG or github:USER"),
        (["github:acme", "--exclude", "("], "--exclude: not a valid regular expression"),
        ([str(tmp_path), "--include-forks"], "apply to github:OWNER and gitlab:GROUP sources"),
    ]
    for args, sentence in cases:
        result = leakscan(*args)
        assert result.returncode == 2 and sentence in result.stderr, (args, result.stderr)
        assert len(result.stderr.splitlines()) == 1


def test_link_headers_and_rate_limit_waits():
    link = '<https://api.github.com/organizations/1/repos?page=3>; rel="next", <https://x/?page=9>; rel="last"'
    assert next_link(link) == "https://api.github.com/organizations/1/repos?page=3"
    assert next_link('<https://x/?page=1>; rel="prev"') is None and next_link("") is None
    assert retry_after(429, {"retry-after": "7"}, 0, 0) == 7
    assert retry_after(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "100"}, 90, 0) == 11
    assert retry_after(429, {"ratelimit-remaining": "0", "ratelimit-reset": "50"}, 50, 0) == 1
    assert retry_after(403, {"x-ratelimit-remaining": "12"}, 0, 0) is None  # a refusal
    assert (retry_after(502, {}, 0, 2), retry_after(404, {}, 0, 0)) == (4, None)
