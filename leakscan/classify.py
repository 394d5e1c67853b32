"""Pure: what one match means — placeholder or key, severity, confidence, context, notes."""

from __future__ import annotations

import binascii
import itertools
import posixpath
import re
from typing import NamedTuple

from leakscan.fingerprint import secret_sha256
from leakscan.model import Confidence, Lookalike, Placeholders, Rule, RuleSet, Severity

# DESIGN §2: a secret in code that ships to browsers or apps is worse.
CLIENT_ENV_PREFIXES = (
    "NEXT_PUBLIC_", "REACT_APP_", "VITE_", "EXPO_PUBLIC_", "GATSBY_", "NUXT_PUBLIC_", "PUBLIC_",
)  # fmt: skip
BUNDLE_DIRS = ("public", "static", "dist", "build")
BUNDLE_SUFFIXES = (".js", ".mjs", ".cjs")
MOBILE_NAMES = ("Info.plist", "strings.xml")
MOBILE_SUFFIXES = (".swift", ".kt")
ESCALATED_TYPES = ("secret", "restricted", "organization")
# Artifacts that leave the building (issue 17): a key inside one is in every copy. By the name of a
# container on the path (`app.apk!classes.dex`) or of a compiled file; an image layer by its digest.
SHIPPED = (
    ((".apk", ".aab", ".dex"), "compiled into an Android app: every install carries it"),
    ((".ipa",), "inside an iOS app: every install carries it"),
    ((".crx", ".xpi"), "inside a browser extension: every user who installs it can read it"),
    ((".vsix",), "inside an editor extension: every user who installs it can read it"),
    ((".exe", ".dll", ".msi", ".dmg", ".appimage", ".so", ".dylib"),
     "compiled into a desktop app or library: anyone with a copy can read it (`strings`)"),
    ((".whl", ".egg", ".nupkg", ".gem", ".jar", ".aar", ".war", ".ear"),
     "inside a package: everyone who installs it gets a copy"),
    ((".pyc", ".class"), "in compiled code: anyone with a copy can read it (`strings`)"),
    ((".hbc", ".jsbundle", ".android.bundle"),
     "in a React Native (Hermes) bundle: every install of the app carries it"),
)  # fmt: skip
NPM_PACKAGE = (".tgz", ".tar.gz")  # `npm pack`: every member under `package/`
NPM_REASON = "inside a package tarball (npm): everyone who installs it gets a copy"
IMAGE_REASON = "in a container image layer: anyone who can pull the image can read it"
_ENV_NAME = re.compile(
    r"(?<![A-Za-z0-9_])((?:" + "|".join(CLIENT_ENV_PREFIXES) + r")[A-Za-z0-9_]*)[\"']?\s*[:=]"
)


class Verdict(NamedTuple):
    severity: Severity
    confidence: Confidence
    context: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def classify(
    rules: RuleSet,
    rule: Rule,
    secret: str,
    path: str,
    line_before: str,
    hints: frozenset[str] = frozenset(),
) -> Verdict | None:
    """None when the match is a placeholder; otherwise how bad it is and why. `hints` are the
    look-alike hints (rules' `lookalikes[].hints`) the whole file contains."""
    body = secret.rsplit("_", 1)[-1]
    if rule.stripe:
        if placeholder_reason(body, rules.placeholders) is not None:
            return None
        if secret_sha256(secret) in rules.documentation_sample_hashes:
            return Verdict(Severity.INFO, Confidence.HIGH, (), (rules.sample_note,))
    severity, confidence = rule.severity, Confidence.HIGH
    context = context_reasons(rule.key_type, path, line_before)
    if context:
        severity = severity.raised()
    notes: tuple[str, ...] = ()
    if rule.stripe and not stripe_structured(body, rules.structured_bodies):
        line = line_before.lower()
        for look in rules.lookalikes:
            if rule.key_type not in look.key_types or not lookalike_matches(look, body):
                continue
            if look.hints and not any(h in hints or h in line for h in look.hints):
                continue
            if look.reject:
                return None
            confidence, notes = Confidence.LOW, (*notes, look.note)
            if look.severity is not None:
                severity = min(severity, look.severity)
    return Verdict(severity, confidence, context, notes)


def stripe_structured(body: str, structured: tuple[str, ...]) -> bool:
    """Does `body` have Stripe's own structure (99+ characters from `51`, or legacy 24)? Then no
    look-alike evidence lowers or hides it."""
    return any(re.fullmatch(regex, body) for regex in structured)


def lookalike_hints(rules: RuleSet, text: bytes) -> frozenset[str]:
    """The look-alike hints (`lookalikes[].hints`) that occur anywhere in `text`, case-insensitively:
    one literal search each, done once per content that has a match."""
    wanted = {h for look in rules.lookalikes for h in look.hints}
    if not wanted:
        return frozenset()
    lower = text.lower()
    return frozenset(h for h in wanted if h.encode() in lower)


def lookalike_matches(look: Lookalike, body: str) -> bool:
    """Does `body` have the look-alike vendor's shape (and, if given, its base64-decoded form)?"""
    if not re.fullmatch(look.body, body):
        return False
    if not look.decoded:
        return True
    padded = body + "=" * (-len(body) % 4)
    try:
        text = binascii.a2b_base64(padded, strict_mode=True).decode("ascii")
    except (binascii.Error, ValueError):
        return False
    return re.fullmatch(look.decoded, text) is not None


def context_reasons(key_type: str, path: str, line_before: str) -> tuple[str, ...]:
    """Why this place ships the key to browsers or apps (DESIGN §2); empty if it does not."""
    if key_type not in ESCALATED_TYPES:
        return ()
    reasons = []
    env = _ENV_NAME.search(line_before)
    if env:
        reasons.append(
            f"client-side variable {env.group(1)}: build tools inline it into code sent to browsers"
        )
    parts = path.split("/")
    name = parts[-1]
    if name.endswith(BUNDLE_SUFFIXES) and any(d in BUNDLE_DIRS for d in parts[:-1]):
        folder = next(d for d in parts[:-1] if d in BUNDLE_DIRS)
        reasons.append(f"built JavaScript under {folder}/: served to every browser")
    if name in MOBILE_NAMES or posixpath.splitext(name)[1] in MOBILE_SUFFIXES:
        reasons.append(f"mobile app file {name}: anyone can unpack the app and read it")
    shipped = shipped_reason(path) if "!" in path or "." in name else None
    return (*reasons, shipped) if shipped else tuple(reasons)


def shipped_reason(path: str) -> str | None:
    """Why a key at `path` ships to everyone who gets an artifact (an app, a package, an image), or
    None: the outermost container that ships, or a compiled file."""
    levels = path.split("!")
    for level, below in zip(levels, [*levels[1:], ""]):
        lower = level.lower()
        if lower.startswith("sha256:"):
            return IMAGE_REASON
        for suffixes, reason in SHIPPED:
            if lower.endswith(suffixes):
                return reason
        if lower.endswith(NPM_PACKAGE) and below.startswith("package/"):
            return NPM_REASON
    return None


def placeholder_reason(body: str, ph: Placeholders) -> str | None:
    """Why `body` is a placeholder rather than a key, or None."""
    if len(set(body)) <= ph.max_distinct_characters:
        return f"at most {ph.max_distinct_characters} distinct characters"
    lower = body.lower()  # TESTtestTESTtest repeats `test`
    for period in range(1, ph.max_period + 1):
        if (
            len(body) > period * 2
            and lower == (lower[:period] * (len(body) // period + 1))[: len(body)]
        ):
            return f"repeats a {period}-character unit"
    if ph.min_repeated_run and _longest_repeated_run(body) >= ph.min_repeated_run:
        return f"a run of {ph.min_repeated_run} or more of one character"
    for word in ph.words_at_start:
        if lower.startswith(word):
            return f"starts with {word!r}"
    for word in ph.words_anywhere:
        if word in lower:
            return f"contains {word!r}"
    if _longest_sequential_run(body) >= ph.min_sequential_run:
        return f"a run of {ph.min_sequential_run} or more sequential characters"
    return None


def _longest_repeated_run(body: str) -> int:
    return max((len(list(run)) for _, run in itertools.groupby(body)), default=0)


def _longest_sequential_run(body: str) -> int:
    best = run_up = run_down = 1
    for a, b in itertools.pairwise(body):
        run_up = run_up + 1 if ord(b) - ord(a) == 1 else 1
        run_down = run_down + 1 if ord(a) - ord(b) == 1 else 1
        best = max(best, run_up, run_down)
    return best if body else 0


def split_verdict(verdict: Verdict, note: str) -> Verdict:
    """A key joined from pieces: the same severity, at most medium confidence, and a note saying so."""
    confidence = Confidence.LOW if verdict.confidence == Confidence.LOW else Confidence.MEDIUM
    return verdict._replace(confidence=confidence, notes=(*verdict.notes, note))
