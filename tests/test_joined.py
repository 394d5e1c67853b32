"""Keys written in pieces (string concatenation, line continuations): which are joined, and where
they are reported (docs/accuracy.md, "split keys")."""

from __future__ import annotations

import pytest

from leakscan.match.engine import find_matches
from leakscan.match.joined import MAX_PIECES, split_views
from leakscan.match.views import SPLIT_NOTE, find_layered
from leakscan.model import Confidence
from tests import keys
from tests.conftest import SETTINGS, findings

K = keys.key("secret", "live", n=99, seed=11)
A, B = K[:30], K[30:]


@pytest.mark.parametrize(
    "text, line, column, end_column",
    [
        (f'const k = "{K[:8]}" + "{K[8:]}";\n', 1, 12, 12 + len(K) + len('" + "')),  # JS, Java, C#
        (f'k = "{K[:20]}" + "{K[20:50]}" + "{K[50:]}"\n', 1, 6, 6 + len(K) + 2 * len('" + "')),
        (f'k = ("{A}" "{B}")\n', 1, 7, 7 + len(K) + len('" "')),  # Python implicit concatenation
        (f"$k = '{A}' . '{B}';\n", 1, 7, 7 + len(K) + len("' . '")),  # PHP
        (f'k = "{A}" & "{B}"\n', 1, 6, 6 + len(K) + len('" & "')),  # VB
        (f"k = `{A}` + `{B}`\n", 1, 6, 6 + len(K) + len("` + `")),  # JS template literals
        # over lines: reported on the first line, cut at its end
        (f'k = (\n    "{A}"\n    "{B}"\n)\n', 2, 6, 6 + len(A) + 1),
        (f'k = "{A}" +\n    "{B}"\n', 1, 6, 6 + len(A) + len('" +')),
        (f'k = "{A}" +\r\n    "{B}"\r\n', 1, 6, 6 + len(A) + len('" +')),  # CRLF: \r not counted
        (f'k = "{A}"\n  + "{B}"\n', 1, 6, 6 + len(A) + len('"')),
        (f'k = "{A}" \\\n    "{B}"\n', 1, 6, 6 + len(A) + len('" \\')),  # Python \ continuation
        (f"export K={A}\\\n{B}\n", 1, 10, 10 + len(A) + 1),  # shell continuation in the body
        (f"K={A}\\\r\n{B}\n", 1, 3, 3 + len(A) + 1),
    ],
    ids=["js-plus", "three-pieces", "py-implicit", "php-dot", "vb-amp", "backticks",
         "py-implicit-lines", "plus-eol", "plus-eol-crlf", "plus-bol", "py-backslash", "shell",
         "shell-crlf"],
)  # fmt: skip
def test_pieces_are_joined_at_medium_confidence(text, line, column, end_column):
    (f,) = findings(text)
    (loc,) = f.locations
    assert (f.rule_id, f.secret, f.confidence) == ("stripe.secret-key.live", K, Confidence.MEDIUM)
    assert (loc.encoding, loc.line, loc.column, loc.end_column) == (
        "split",
        line,
        column,
        end_column,
    )
    assert SPLIT_NOTE in f.notes


@pytest.mark.parametrize(
    "text",
    [
        f'k = "sk_" + "live_" + "{K[8:]}"\n',  # the prefix itself in pieces
        f'k = "sk_li" + "ve_{K[8:]}"\n',  # the keyword _live_ split (a documented miss)
        f'k = "sk_live" + "_{K[8:]}"\n',
        f'k = "{A}" + \'{B}\'\n',  # the quotes differ
        f'k = "{A}" + suffix\n',  # a variable
        f'k = ["{A}", "{B}"]\n',  # an array
        f'k = "{A}"\n\n"{B}"\n',  # a blank line between the pieces
        f'k = ("{A}"  # note\n     "{B}")\n',  # a comment between the pieces
        f'k = "{K[:8]}" + "{keys.body(10, seed=12)}"\n',  # joined body too short for a key
    ],
    ids=["prefix-split", "keyword-split", "keyword-split-2", "mixed-quotes", "variable",
         "array", "blank-line", "comment", "too-short"],
)  # fmt: skip
def test_these_pieces_are_not_joined(text):
    assert findings(text) == ()


@pytest.mark.parametrize(
    "make, rule_id",
    [
        (lambda: keys.webhook(seed=13), "stripe.webhook-secret"),
        (lambda: keys.key("organization", "live", seed=13), "stripe.organization-key.live"),
        (lambda: "rkcs_" + "live_" + keys.body(40, seed=13), "stripe.restricted-key.live"),
        (lambda: keys.key("restricted", "test", seed=13), "stripe.restricted-key.test"),
        (lambda: keys.key("publishable", "test", seed=13), "stripe.publishable-key.test"),
    ],
    ids=["whsec", "sk_org", "rkcs", "rk_test", "pk_test"],
)
def test_every_kind_is_joined(make, rule_id):
    k = make()
    (f,) = findings(f'x = "{k[:14]}" + "{k[14:]}"\n')
    assert (f.rule_id, f.secret, f.confidence) == (rule_id, k, Confidence.MEDIUM)


def test_at_most_max_pieces_are_joined():
    pieces = [K[:8]] + [K[i : i + 5] for i in range(8, len(K), 5)]
    assert len(pieces) > MAX_PIECES + 1
    (f,) = findings('k = "' + '" + "'.join(pieces) + '"\n')
    assert f.secret == "".join(pieces[: MAX_PIECES + 1])


def test_a_whole_key_is_not_also_reported_as_joined():
    (f,) = findings(f'k = "{K}" + "more"\n')
    assert f.secret == K and f.confidence == Confidence.HIGH and f.locations[0].encoding == "plain"


def test_layered_match_offsets_point_into_the_blob():
    data = f'k = ("{A}"\n     "{B}")\n'.encode()
    plain = find_matches(SETTINGS.matcher, data)
    (view,) = split_views(data, plain.keywords_seen)
    assert view.data == f'k = ("{K}"'.encode()  # the line, gaps removed, to the closing quote
    (m,) = find_layered(SETTINGS.matcher, data, plain)
    assert (m.secret, m.encoding, m.split) == (K, "split", True)
    assert data[m.start : m.end] == f'{A}"'.encode()  # cut at the end of the first line
    assert m.line_before == 'k = ("'
