"""Frozen records shared by every stage. Raw secrets are never part of a repr.

Records are NamedTuples: creating a frozen dataclass runs `exec` for each generated method, and the
~40 records of leakscan cost a pre-commit scan ~30 ms that way (docs/performance.md)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import os

    StrPath = str | os.PathLike[str]  # what functions that open a path take (no run-time pathlib)


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """`"high"` -> `Severity.HIGH`; raises ValueError for anything else."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {names})") from None

    def raised(self) -> Severity:
        """One step up, never above critical."""
        return Severity(min(self + 1, Severity.CRITICAL))


def masked_repr(record: NamedTuple, *hidden: str) -> str:
    """A record's repr without its raw fields (keys, file content): they show as `...`."""
    shown = (f"{n}=..." if n in hidden else f"{n}={v!r}" for n, v in zip(record._fields, record))
    return f"{type(record).__name__}({', '.join(shown)})"


class Confidence(enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Rule(NamedTuple):
    """One detection rule, loaded from `rules/*.yaml` or a user rule file."""

    id: str
    title: str
    description: str
    key_type: str  # secret | restricted | publishable | organization | webhook_secret | custom
    mode: str | None  # live | test | None (not encoded in the key)
    severity: Severity
    regex: str  # must contain a named group `secret`, or the whole match is the secret
    keywords: tuple[str, ...]  # literals, one of which every match contains (the prefilter)
    remediation: str
    references: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    stripe: bool = False  # apply Stripe body checks (placeholders, look-alikes, samples)
    origin: str = "builtin"  # file the rule came from


class Match(NamedTuple):
    """One occurrence of a rule's pattern in a byte string. Offsets are byte offsets."""

    rule_id: str
    start: int
    end: int
    secret: str

    def __repr__(self) -> str:
        return masked_repr(self, "secret")


class Location(NamedTuple):
    """Where a secret appears. line/column are 1-based; end_column is exclusive; columns count
    Unicode code points of the decoded line."""

    path: str
    line: int
    column: int
    end_column: int
    commit: str | None = None
    author_date: str | None = None
    encoding: str = "plain"
    repository: str | None = None


class Suppression(NamedTuple):
    kind: str  # inline | baseline | config
    reason: str


class Verification(NamedTuple):
    """What Stripe's API said about a key (`--verify`). Never holds the key."""

    status: str  # live | revoked | unknown
    checked_at: str | None  # ISO 8601 UTC, None when no request was sent (cap, not eligible)
    http_status: int | None  # None: no HTTP answer (timeout, connection error, not sent)
    reason: str = (
        ""  # one short phrase: "restricted key without permission to read the account", ...
    )


class BaselineEntry(NamedTuple):
    """One known secret in a baseline file: identity plus non-secret context, never the key."""

    rule_id: str
    secret_sha256: str
    key_type: str = ""
    mode: str | None = None
    preview: str = ""
    verdict: str = ""  # `leakscan baseline --audit`: true positive | false positive | accepted risk
    reason: str = ""  # what the auditor wrote with the verdict


class Account(NamedTuple):
    """The Stripe account a key belongs to, as far as its body says (accounts.py): never the segment
    itself, only its sha256 and its last four characters."""

    sha256: str
    preview: str  # `…Xy4Q`


class Exposure(NamedTuple):
    """How long a secret was in a repository's history, and where it went (exposure.py; history scans
    only). Dates are git's strict ISO 8601 author dates."""

    introduced: str  # the first commit (topological order) that added it
    introduced_date: str
    last_present: str | None  # the last commit that still held it (HEAD when it is still there)
    removed: str | None  # the commit that removed it; None: never removed (at HEAD, or on a branch)
    removed_date: str | None
    days: int  # from `introduced_date` to `removed_date` (or to HEAD's date when never removed)
    at_head: bool
    refs: tuple[
        str, ...
    ] = ()  # full names of the refs whose history holds it (refs/tags/v1.0, ...)
    default_branch: str | None = None  # refs/heads/main, when the repository has one


class Change(NamedTuple):
    """A matched blob put at (`added`) or taken from a path by a commit (diffed against its first
    parent): what exposure.py reads the exposure window from."""

    commit: str
    parent: str | None  # the first parent; None for a root commit
    author_date: str
    path: str
    oid: str
    added: bool


class Finding(NamedTuple):
    """One secret value found by one rule, with every place it appears."""

    rule_id: str
    key_type: str
    mode: str | None
    severity: Severity
    confidence: Confidence
    secret_sha256: str
    preview: str
    present_at_head: bool
    locations: tuple[Location, ...]
    remediation: str
    context: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    suppressed: Suppression | None = None
    secret: str = ""  # only kept for --show-secrets; not part of a finding's identity (==, hash)
    verification: Verification | None = None  # set by --verify; None when not verified
    status: str | None = None  # scan-many --state: "new", or "open" (reported by an earlier run)
    account: Account | None = None  # current sk_/rk_/pk_ keys only (accounts.py)
    exposure: Exposure | None = None  # history scans only (exposure.py)

    def __repr__(self) -> str:
        return masked_repr(self, "secret")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and _identity(self) == _identity(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(_identity(self))


class Skipped(NamedTuple):
    """A file or object the scan did not read, and why."""

    path: str
    reason: str
    incomplete: bool = False  # the content was partly read or matched: the scan did not finish
    container: bool = (
        False  # part of an archive or image that was not read in full (a limit, damage)
    )


class HistoryStats(NamedTuple):
    """What a history scan read, left out and spent its time on (`--verbose`; not in JSON)."""

    refs: int  # refs (HEAD not counted)
    commits: int  # commits in the object database
    listed: int  # blobs in the object database
    listed_bytes: int
    unreachable: int = 0  # blobs read and matched, then dropped: no ref reaches them
    unreachable_bytes: int = 0
    full_scans: int = 0  # blobs that held a keyword and went through the rules
    timings: tuple[tuple[str, float], ...] = ()  # (phase, seconds), in the order they ran


class ScanSummary(NamedTuple):
    target: str
    mode: str  # worktree | staged | history | range | paths
    files: int
    blobs: int
    bytes: int
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    stale_baseline: tuple[BaselineEntry, ...] | None = None  # with --report-stale only
    history: HistoryStats | None = None  # history scans only
    fixed: tuple[Finding, ...] | None = None  # scan-many --state: open last run, gone from HEAD now


class ScanResult(NamedTuple):
    summary: ScanSummary
    findings: tuple[Finding, ...]


class Placeholders(NamedTuple):
    """Bodies that are placeholders, not keys (from `placeholders:` in rules/stripe.yaml)."""

    max_distinct_characters: int = 2
    max_period: int = 4
    min_sequential_run: int = 8
    min_repeated_run: int = 0  # a run of this many of one character (filler), 0: not checked
    words_anywhere: tuple[str, ...] = ()
    words_at_start: tuple[str, ...] = ()


class Lookalike(NamedTuple):
    """Another vendor's token shape that a Stripe rule still matches: reported at low confidence."""

    name: str
    key_types: tuple[str, ...]
    body: str  # regex, full-matched against the body
    note: str
    decoded: str = ""  # regex, full-matched against the base64-decoded body (empty: not checked)
    reject: bool = (
        False  # True: certainly the other vendor's token, not reported (like a placeholder)
    )
    hints: tuple[str, ...] = ()  # lower-case literals, one of which the file or the line must hold
    severity: Severity | None = None  # lowered to this (never raised); None: severity unchanged


class RuleSet(NamedTuple):
    """Everything the core needs to know about what a credential is."""

    rules: tuple[Rule, ...]
    documentation_sample_hashes: frozenset[str] = frozenset()  # secret_sha256 of each public sample
    sample_note: str = ""
    placeholders: Placeholders = Placeholders()
    lookalikes: tuple[Lookalike, ...] = ()
    structured_bodies: tuple[str, ...] = ()  # regexes of Stripe's own body structure: never lowered

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


class ArchiveLimits(NamedTuple):
    """How far a scan opens containers (archives, compressed files, images): docs/security.md."""

    max_depth: int = 8  # containers inside containers; 0: none is opened (--max-archive-depth)
    max_member: int = 50 << 20  # one member's uncompressed bytes (--max-file-size)
    max_total: int = 1 << 30  # uncompressed bytes read from one file, all levels together
    max_ratio: int = 1000  # uncompressed : compressed, checked once a member passes 1 MiB
    max_members: int = 100_000  # members listed in one file, all levels together


class Blob(NamedTuple):
    """Content handed from a source to the scan, and where it lives."""

    path: str  # relative POSIX path shown in reports
    data: bytes
    commit: str | None = None
    author_date: str | None = None

    def __repr__(self) -> str:
        return masked_repr(self, "data")


def _identity(finding: Finding) -> tuple[object, ...]:
    return tuple.__getitem__(finding._replace(secret=""), slice(None))
