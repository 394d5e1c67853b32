"""Per content: bytes -> matches (in the text and its decoded views) -> classified occurrences."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from leakscan import suppress
from leakscan.findings import Occurrence, from_occurrences
from leakscan.match.engine import find_matches, has_anchored_keyword
from leakscan.match.lines import locate
from leakscan.match.text import (
    COMPRESSED,
    container_kind,
    delimited,
    is_plain,
    utf16_runs,
    utf16_text,
)
from leakscan.match.views import SPLIT_NOTE, LayeredMatch, find_layered
from leakscan.model import (
    Blob,
    Location,
    Match,
    ScanResult,
    ScanSummary,
    Skipped,
    Suppression,
    masked_repr,
)

if TYPE_CHECKING:
    from leakscan.settings import Settings
    from leakscan.sources.archives import Problem


class BlobReport(NamedTuple):
    occurrences: tuple[Occurrence, ...]
    skipped: tuple[Skipped, ...]  # binary content is not skipped here: it is counted
    binary: bool = False


_NOTHING = BlobReport((), ())


class Hit(NamedTuple):
    """One match in some content, before it is tied to a path: what a blob says about itself."""

    rule_id: str
    secret: str
    line: int
    column: int
    end_column: int
    line_before: str  # the line up to the match, for context (env names)
    inline: Suppression | None
    encoding: str = "plain"  # the file's encoding and any layer the key was decoded from
    split: bool = False  # joined from pieces ("sk_live_" + "…"): lower confidence
    member: str = ""  # the path inside a container (`classes.dex`, `sha256:…!app/.env`)
    notes: tuple[str, ...] = ()  # what the container says about the member (image, whiteout)

    def __repr__(self) -> str:
        return masked_repr(self, "secret", "line_before")


class BlobHits(NamedTuple):
    """Everything matched in one content, independent of its path (a history blob's path comes later)."""

    hits: tuple[Hit, ...]
    encoding: str = "plain"
    timeouts: tuple[str, ...] = ()
    binary: bool = False
    hints: frozenset[str] = frozenset()  # look-alike hints the whole content holds (classify)
    problems: tuple[Problem, ...] = ()  # what a container held that was not read in full


_PLAIN_NOTHING = BlobHits(())
_BINARY = BlobHits((), binary=True)


def match_blob(settings: Settings, data: bytes) -> BlobHits:
    """Match one content, in its own text and inside encodings (leakscan.match.views): no path, no
    commit, no classification yet. A container (an archive, a compressed file, an image) is opened
    and each member matched (scan/containers.py)."""
    if is_plain(data):  # most content: its bytes are its only reading, nothing else is looked at
        if data.startswith(COMPRESSED) and settings.archives.max_depth and container_kind(data):
            return _match_container(settings, data)
        return _match_text(settings, data, "plain")
    if settings.archives.max_depth and container_kind(data):
        return _match_container(settings, data)
    return match_content(settings, data)


def _match_container(settings: Settings, data: bytes) -> BlobHits:
    # imported here: only a scan that meets a container pays for the archive code (~1.3 ms)
    from leakscan.scan import containers

    return containers.match_container(settings, data, match_content)


def match_content(settings: Settings, data: bytes) -> BlobHits:
    """One content that is not a container. Raw bytes are always matched (docs/accuracy.md,
    "Sniffing"); a UTF-16 reading besides them; a binary's UTF-16LE strings (of compiled code)
    besides its raw bytes; a binary with no key prefix in either is skipped."""
    if is_plain(data):
        return _match_text(settings, data, "plain")
    utf16 = utf16_text(data)
    if utf16 is None:  # binary: its strings may be length-prefixed, or UTF-16LE (compiled code)
        utf16 = utf16_runs(data)
        if utf16 is None and not has_anchored_keyword(settings.matcher, data):
            return _BINARY
        data = delimited(data)
    raw = _match_text(settings, data, "plain")
    return raw if utf16 is None else _merged(raw, _match_text(settings, *utf16))


def _merged(raw: BlobHits, decoded: BlobHits) -> BlobHits:
    """Both readings' hits; a key found in both is reported once, where the raw bytes have it."""
    seen = {(h.rule_id, h.secret) for h in raw.hits}
    extra = tuple(h for h in decoded.hits if (h.rule_id, h.secret) not in seen)
    timeouts = tuple(sorted({*raw.timeouts, *decoded.timeouts}))
    return BlobHits(raw.hits + extra, decoded.encoding, timeouts)


def _match_text(settings: Settings, text: bytes, encoding: str) -> BlobHits:
    """Match one reading of a content (`encoding`: `plain` for its raw bytes, or `utf-16le`/`be`)."""
    found = find_matches(settings.matcher, text)
    layered = find_layered(settings.matcher, text, found)
    if not (found.matches or layered or found.timeouts):  # most content: nothing more to do
        return _PLAIN_NOTHING if encoding == "plain" else BlobHits((), encoding)
    timeouts = tuple(sorted({*found.timeouts, *(t for lm in layered for t in lm.timeouts)}))
    matches: list[Match | LayeredMatch] = sorted(
        (*found.matches, *layered), key=lambda m: (m.start, m.end, m.rule_id)
    )
    hits = []
    for m, pos in zip(matches, locate(text, [(m.start, m.end) for m in matches])):
        layer = m if isinstance(m, LayeredMatch) else None
        if layer is None:
            line_before = text[pos.line_start : m.start].decode("utf-8", "replace")
        else:
            line_before = layer.line_before
        line = text[pos.line_start : _marker_end(text, pos.line_end, layer)].decode(
            "utf-8", "replace"
        )
        hits.append(
            Hit(
                m.rule_id,
                m.secret,
                pos.line,
                pos.column,
                pos.end_column,
                line_before,
                suppress.inline(line),
                _encoding_label(encoding, None if layer is None else layer.encoding),
                layer is not None and layer.split,
            )
        )
    from leakscan.classify import lookalike_hints  # as in place(): only content with a match

    return BlobHits(tuple(hits), encoding, timeouts, hints=lookalike_hints(settings.rules, text))


def _marker_end(text: bytes, line_end: int, layer: LayeredMatch | None) -> int:
    """Where an allow marker may stand: the match's line, or every line a key written in pieces
    (or wrapped base64) spans, down to the end of its last one."""
    if layer is None or layer.span_end <= line_end:
        return line_end
    nl = text.find(b"\n", layer.span_end)
    return len(text) if nl < 0 else nl


def _encoding_label(file_encoding: str, layer: str | None) -> str:
    """`plain`, the file's own encoding (`utf16le`), a layer (`base64`), or both (`utf16le+base64`)."""
    if layer is None:
        return file_encoding
    return layer if file_encoding == "plain" else f"{file_encoding}+{layer}"


def place(
    settings: Settings,
    found: BlobHits,
    path: str,
    commit: str | None = None,
    author_date: str | None = None,
) -> BlobReport:
    """Classify the hits of one content as found at `path` (in `commit`)."""
    if found.binary:
        return BlobReport((), (), binary=True)
    if not (found.hits or found.timeouts or found.problems):
        return _NOTHING
    from leakscan import classify  # only content with a match needs it: not imported before (~1 ms)

    out = []
    for hit in found.hits:
        rule = settings.rules.rule(hit.rule_id)
        shown = inside(path, hit.member)
        verdict = classify.classify(
            settings.rules, rule, hit.secret, shown, hit.line_before, found.hints
        )
        if verdict is None:
            continue
        if hit.split:
            verdict = classify.split_verdict(verdict, SPLIT_NOTE)
        where = Location(
            path=shown, line=hit.line, column=hit.column, end_column=hit.end_column,
            commit=commit, author_date=author_date, encoding=hit.encoding,
        )  # fmt: skip
        out.append(
            Occurrence(
                hit.rule_id,
                hit.secret,
                where,
                verdict.severity,
                verdict.confidence,
                verdict.context,
                verdict.notes + hit.notes,
                hit.inline,
            )
        )
    return BlobReport(tuple(out), _skipped(found, path))


def _skipped(found: BlobHits, path: str) -> tuple[Skipped, ...]:
    """What of the content at `path` was not read (a container's damaged or cut members) or not
    fully matched (a rule timed out: the scan did not finish)."""
    skipped = tuple(Skipped(inside(path, p.path), p.reason, container=True) for p in found.problems)
    if found.timeouts:
        rules = ", ".join(found.timeouts)
        reason = f"rule(s) {rules} timed out; this content was not fully matched"
        skipped += (Skipped(path, reason, incomplete=True),)
    return skipped


def inside(path: str, member: str) -> str:
    """How a report shows `member` of the file at `path`: `app.apk!classes.dex`."""
    return f"{path}!{member}" if member else path


def scan_blob(settings: Settings, blob: Blob) -> BlobReport:
    """Everything found in one file or blob."""
    found = match_blob(settings, blob.data)
    return place(settings, found, blob.path, blob.commit, blob.author_date)


LFS_POINTER = b"version https://git-lfs.github.com/spec/"
LFS_NOTE = (
    "Git LFS pointer file(s): the files they point to are in LFS storage, not here, and were not "
    "scanned (`git lfs pull`, then scan again)"
)


def is_lfs_pointer(data: bytes) -> bool:
    """A Git LFS pointer: the file it stands for is in LFS storage, not in git or on this disk."""
    return len(data) < 1024 and data.startswith(LFS_POINTER)


class ItemOutcome(NamedTuple):
    """What one source item (a read file, or a Skipped record) added to a scan; picklable for workers."""

    occurrences: tuple[Occurrence, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    files: int = 0
    nbytes: int = 0
    binary: bool = False
    lfs_pointer: bool = False


def scan_item(settings: Settings, item: Blob | Skipped) -> ItemOutcome:
    if isinstance(item, Skipped):
        return ItemOutcome(skipped=(item,))
    report = scan_blob(settings, item)
    lfs = is_lfs_pointer(item.data)
    return ItemOutcome(report.occurrences, report.skipped, 1, len(item.data), report.binary, lfs)


def summarise(
    settings: Settings,
    outcomes: Iterable[ItemOutcome],
    *,
    target: str,
    mode: str,
    started: float,
    notes: tuple[str, ...] = (),
) -> ScanResult:
    """Outcomes in source order -> the result (the order only decides ties inside a finding)."""
    occurrences: list[Occurrence] = []
    skipped: list[Skipped] = []
    files = nbytes = binary = lfs = 0
    for out in outcomes:
        occurrences.extend(out.occurrences)
        skipped.extend(out.skipped)
        files += out.files
        nbytes += out.nbytes
        binary += out.binary
        lfs += out.lfs_pointer
    notes += (f"{binary} binary file(s) not scanned",) if binary else ()
    if lfs:
        notes += (f"{lfs} {LFS_NOTE}",)
    summary = ScanSummary(
        target=target, mode=mode, files=files, blobs=0, bytes=nbytes,
        skipped=tuple(sorted(skipped, key=lambda s: s.path)), notes=notes,
        seconds=time.monotonic() - started,
    )  # fmt: skip
    return ScanResult(summary, from_occurrences(settings.rules, occurrences, settings.allowed))


def scan_items(
    settings: Settings,
    items: Iterable[Blob | Skipped],
    *,
    target: str,
    mode: str,
    notes: tuple[str, ...] = (),
) -> ScanResult:
    """Scan files from a working-tree or path source (everything present at HEAD), in this process."""
    started = time.monotonic()
    outcomes = (scan_item(settings, item) for item in items)
    return summarise(settings, outcomes, target=target, mode=mode, started=started, notes=notes)


def example_problems(settings: Settings, rule_id: str) -> list[str]:
    """Each example must be found by its rule, and no negative example may be (the rule's own proof)."""
    rule = settings.rules.rule(rule_id)
    problems = []
    for i, text in enumerate(rule.examples, 1):
        report = scan_blob(settings, Blob("example", text.encode("utf-8")))
        if not any(o.rule_id == rule_id for o in report.occurrences):
            problems.append(f"rule {rule_id}: example {i} is not matched.")
    for i, text in enumerate(rule.negative_examples, 1):
        report = scan_blob(settings, Blob("example", text.encode("utf-8")))
        if any(o.rule_id == rule_id for o in report.occurrences):
            problems.append(f"rule {rule_id}: negative example {i} is matched.")
    return problems
