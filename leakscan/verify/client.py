"""`--verify`: one read-only request per distinct key to Stripe's API. The only module that does
network I/O. It never logs, prints or raises with the key: reasons are fixed phrases, and exception
messages (which can quote URLs and headers) are never used."""

from __future__ import annotations

import http.client
import ipaddress
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import NamedTuple

from leakscan import __version__
from leakscan.errors import UsageError
from leakscan.fingerprint import secret_sha256
from leakscan.model import Verification
from leakscan.verify.policy import UNKNOWN, status_for

BASE_ENV = "LEAKSCAN_STRIPE_API_BASE"
DEFAULT_BASE = "https://api.stripe.com"
ENDPOINT = "/v1/account"
# Organization keys must send Stripe-Version (and Stripe-Context: the account to act on).
STRIPE_VERSION = "2025-03-31.basil"
_LOOPBACK_NAMES = ("localhost",)
_CONTEXT = re.compile(r"[A-Za-z0-9_]{1,255}(/[A-Za-z0-9_]{1,255}){0,3}")


class VerifyOptions(NamedTuple):
    base_url: str = DEFAULT_BASE
    timeout: float = 5.0  # seconds, per request (connect and each read)
    concurrency: int = 4
    max_requests: int = 100  # per run; keys beyond it are `unknown`
    stripe_context: str | None = None  # account for organization keys (Stripe-Context header)


def stripe_context(value: str | None) -> str | None:
    """`--stripe-context`: an account id or a `/`-separated path of them (acct_1/acct_2)."""
    if value is None or _CONTEXT.fullmatch(value):
        return value
    raise UsageError("--stripe-context takes an account id such as acct_1A2b3C (or acct_1/acct_2).")


def base_url(env: Mapping[str, str]) -> str:
    """The API base: https only, except plain http to a loopback address (tests, local proxies)."""
    return secure_base(env.get(BASE_ENV) or DEFAULT_BASE, BASE_ENV, "keys are")


def secure_base(url: str, name: str, sent: str) -> str:
    """`url` without its trailing `/` when it is https, or http to a loopback address; else a usage
    error naming `name` (the option or variable) and what would be `sent` in clear text. Used for
    Stripe's API (`--verify`) and the platforms' (`scan-many github:`, a token)."""
    url = url.rstrip("/")
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:
        raise UsageError(f"{name} has an invalid port; use e.g. https://host:8443.") from None
    if parts.hostname and (
        parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname))
    ):
        return url
    raise UsageError(f"{name} must be an https:// URL (or http:// to a loopback address), so "
                     f"{sent} never sent in clear text.")  # fmt: skip


def is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def verify_keys(
    secrets: Sequence[str], options: VerifyOptions, now: Callable[[], datetime] | None = None
) -> dict[str, Verification]:
    """secret_sha256 -> Verification for each distinct key, at most `max_requests` requests."""
    clock = now or (lambda: datetime.now(UTC))
    distinct = list(dict.fromkeys(secrets))
    sent, over = distinct[: options.max_requests], distinct[options.max_requests :]
    results: dict[str, Verification] = {}
    if sent:
        with ThreadPoolExecutor(max_workers=max(1, min(options.concurrency, len(sent)))) as pool:
            answers = pool.map(lambda s: check_key(s, options, clock), sent)
            results = {secret_sha256(s): v for s, v in zip(sent, answers)}
    capped = Verification(
        UNKNOWN, None, None, f"not checked: over the cap of {options.max_requests} request(s) a run"
    )
    results.update({secret_sha256(s): capped for s in over})
    return results


def check_key(secret: str, options: VerifyOptions, now: Callable[[], datetime]) -> Verification:
    """One GET /v1/account with the key as a bearer token."""
    key_type = "organization" if secret.startswith("sk_org_") else "other"
    request = urllib.request.Request(options.base_url + ENDPOINT, method="GET")
    request.add_header("Authorization", f"Bearer {secret}")
    request.add_header("User-Agent", f"leakscan/{__version__} (+--verify)")
    if key_type == "organization":
        request.add_header("Stripe-Version", STRIPE_VERSION)
        if options.stripe_context:
            request.add_header("Stripe-Context", options.stripe_context)
    checked_at = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        with _opener(options.base_url).open(request, timeout=options.timeout) as response:
            code = int(response.status)
    except urllib.error.HTTPError as exc:
        code = int(exc.code)
        exc.close()
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        return Verification(UNKNOWN, checked_at, None, _network_reason(exc, options.timeout))
    status, reason = status_for(code, key_type)
    return Verification(status, checked_at, code, reason)


def _network_reason(exc: BaseException, timeout: float) -> str:
    cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(cause, TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(cause, BaseException):
        return f"could not reach the API ({type(cause).__name__})"
    return "could not reach the API"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would carry the Authorization header to another host: never follow one."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _opener(base: str) -> urllib.request.OpenerDirector:
    host = urllib.parse.urlsplit(base).hostname or ""
    proxies = urllib.request.ProxyHandler({} if is_loopback(host) else None)
    return urllib.request.build_opener(proxies, _NoRedirect())
