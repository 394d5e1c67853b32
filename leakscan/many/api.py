"""The HTTP side of listing an organisation: GET a paginated REST collection (`Link: <…>; rel="next"`),
wait out rate limits (`Retry-After`, `X-RateLimit-Reset`/`RateLimit-Reset`) for at most a bounded time,
retry a server error or a dropped connection a bounded number of times.

The token travels in a request header only. Nothing here logs, and no message quotes a header, a URL
with its query, or an exception's text (which can quote either): reasons are fixed phrases.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from leakscan import __version__
from leakscan.errors import SourceError
from leakscan.verify.client import secure_base

MAX_PAGES = 10_000  # 1,000,000 repositories at 100 a page: a server that never stops is an error
RETRIES = 3  # per request, for a rate limit, a server error or a dropped connection


class Api(NamedTuple):
    """How to talk to one platform's API.

    base: the API root (`https://api.github.com`, `https://gitlab.example/api/v4`), checked by
        `checked_base`.
    headers: sent with every request (the token's among them).
    max_wait: the longest a rate limit may make the run wait, in seconds; a longer reset is an error.
    timeout: seconds per request (connect and each read).
    """

    base: str
    headers: Mapping[str, str]
    max_wait: float = 600.0
    timeout: float = 30.0

    def __repr__(self) -> str:
        return f"Api(base={self.base!r}, headers=<{len(self.headers)} hidden>)"


class HttpRefusal(SourceError):
    """The API answered with an error status that a retry does not help (401, 403, 404, …)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def checked_base(url: str, option: str = "--api-url") -> str:
    """https, or http to a loopback address only (tests, a local proxy): a token never goes out in
    clear text. The same rule as `--verify`'s API base."""
    return secure_base(url, option, "the token is")


def get_pages(api: Api, path: str) -> Iterator[list[object]]:
    """Each page of the collection at `api.base + path`, following `rel="next"` links on the API's
    own host only (a link elsewhere would take the token with it)."""
    url: str | None = api.base + path
    origin = _origin(api.base)
    for _ in range(MAX_PAGES):
        if url is None:
            return
        _, headers, body = _get_retrying(api, url)
        try:
            page = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SourceError("the API answered with something that is not JSON; check --api-url "
                              "(GitHub Enterprise: https://HOST/api/v3).") from None  # fmt: skip
        if not isinstance(page, list):
            raise SourceError("the API answered with something other than a list of repositories; "
                              "check --api-url.")  # fmt: skip
        yield page
        url = next_link(headers.get("link", ""))
        if url is not None and _origin(url) != origin:
            raise SourceError("the API's next-page link points to another host; refusing to send "
                              "the token there.")  # fmt: skip
    raise SourceError(f"the API returned more than {MAX_PAGES} pages; stopping.")


def next_link(header: str) -> str | None:
    """The `rel="next"` URL of an RFC 8288 `Link` header, as GitHub and GitLab send it."""
    for part in header.split(","):
        target, _, params = part.partition(";")
        rels = [p.strip() for p in params.split(";")]
        if any(r.replace(" ", "") in ('rel="next"', "rel=next") for r in rels):
            return target.strip().removeprefix("<").removesuffix(">")
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port


def _get_retrying(api: Api, url: str) -> tuple[int, Mapping[str, str], bytes]:
    for attempt in range(RETRIES + 1):
        status, headers, body = _get(api, url)
        if status == 200:
            return status, headers, body
        wait = retry_after(status, headers, time.time(), attempt)
        if wait is None or attempt == RETRIES:
            if status in (403, 429) and wait is not None:
                raise SourceError("the API's rate limit is still exhausted after "
                                  f"{RETRIES} waits; run again later.")  # fmt: skip
            raise HttpRefusal(status) if status else SourceError(_unreachable(api))
        if wait > api.max_wait:
            raise SourceError(f"the API's rate limit resets in {int(wait)} s, more than the "
                              f"{int(api.max_wait)} s --rate-limit-wait allows; run again later, "
                              "or allow a longer wait.")  # fmt: skip
        time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def retry_after(status: int, headers: Mapping[str, str], now: float, attempt: int) -> float | None:
    """`headers` with lower-case names. Seconds to wait before retrying, or None when a retry will not help. A rate limit: the
    server's `Retry-After`, else until its reset time; a 5xx or no answer (status 0): 1, 2, 4 s."""
    if status in (403, 429):
        if "retry-after" in headers:
            return _seconds(headers["retry-after"])
        remaining = headers.get("x-ratelimit-remaining", headers.get("ratelimit-remaining"))
        reset = headers.get("x-ratelimit-reset", headers.get("ratelimit-reset"))
        if remaining == "0" and reset is not None:
            return max(0.0, _seconds(reset) - now) + 1.0
        return 60.0 if status == 429 else None  # a 403 without rate-limit headers is a refusal
    if status == 0 or status >= 500:
        return float(2**attempt)
    return None


def _seconds(value: str) -> float:
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return 60.0  # an HTTP date or garbage: GitHub's advice is to wait a minute


def _get(api: Api, url: str) -> tuple[int, Mapping[str, str], bytes]:
    """(status, headers, body); status 0 when no answer came (timeout, refused, reset)."""
    request = urllib.request.Request(url, headers={
        "Accept": "application/json", "User-Agent": f"leakscan/{__version__}", **api.headers})  # fmt: skip
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=api.timeout) as response:
            return response.status, _headers(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, _headers(exc.headers), b""
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return 0, {}, b""


def _headers(message: object) -> dict[str, str]:
    items = getattr(message, "items", None)
    return {k.lower(): v for k, v in items()} if items else {}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the error it is: following it could carry the token elsewhere."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _unreachable(api: Api) -> str:
    host = urllib.parse.urlsplit(api.base).netloc
    return f"the API at {host} did not answer after {RETRIES + 1} tries; check --api-url and the network."
