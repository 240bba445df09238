"""Reports: the JSON model and its renderings (text, github, json, ...)."""

from __future__ import annotations

from collections.abc import Callable

from harness.report.model import SCHEMA, RepoInfo, Report

FORMATS: dict[str, str] = {
    "text": "harness.report.text:render",
    "json": "harness.report.json_format:render",
    "github": "harness.report.github:render",
    "sarif": "harness.report.sarif:render",
    "markdown": "harness.report.markdown:render",
}
"""Output format name -> "module:function" taking a Report and returning text."""


def renderer(name: str) -> Callable[[Report], str]:
    """The render function of an output format."""
    import importlib

    module_name, _, attr = FORMATS[name].partition(":")
    fn: Callable[[Report], str] = getattr(importlib.import_module(module_name), attr)
    return fn


__all__ = ["FORMATS", "SCHEMA", "RepoInfo", "Report", "renderer"]
