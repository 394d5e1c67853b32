"""Renderers: `render(result, rules, options) -> str`, and their registry. The only place report text
is made; `cli/console.py` is the only place it is written."""

from __future__ import annotations

from collections.abc import Callable

from leakscan.model import RuleSet, ScanResult
from leakscan.report import text
from leakscan.report.options import RenderOptions

Renderer = Callable[[ScanResult, RuleSet, RenderOptions], str]


# Only the text renderer is imported up front: a pre-commit scan pays for no other (the SARIF
# renderer imports sarif-om, 40-90 ms on this machine).
def _json(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import json

    return json.render(result, rules, options)


def _sarif(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import sarif

    return sarif.render(result, rules, options)


def _github(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import github

    return github.render(result, rules, options)


def _gitleaks_json(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import gitleaks

    return gitleaks.render(result, rules, options)


def _csv(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import csv

    return csv.render(result, rules, options)


def _junit(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import junit

    return junit.render(result, rules, options)


def _html(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import html

    return html.render(result, rules, options)


def _gitlab(result: ScanResult, rules: RuleSet, options: RenderOptions) -> str:
    from leakscan.report import gitlab

    return gitlab.render(result, rules, options)


RENDERERS: dict[str, Renderer] = {
    "text": text.render,
    "json": _json,
    "sarif": _sarif,
    "github": _github,
    "gitleaks-json": _gitleaks_json,
    "csv": _csv,
    "junit": _junit,
    "html": _html,
    "gitlab": _gitlab,
}
