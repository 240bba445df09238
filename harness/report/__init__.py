"""Reports: the JSON model and its renderings (text, github, json, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.report.model import SCHEMA, RepoInfo, Report

_FROM_MODEL = ("SCHEMA", "RepoInfo", "Report")
"""Names read from `harness.report.model` when first asked for: the `--format` choices and
`renderer` come without the model and its imports (hashlib, json), at every start-up."""

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


def __getattr__(name: str) -> Any:
    if name in _FROM_MODEL:
        from harness.report import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FORMATS", "SCHEMA", "RepoInfo", "Report", "renderer"]
