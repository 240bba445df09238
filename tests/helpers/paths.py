"""Where the repository under test and its fixtures live."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
"""The repository root (holds pyproject.toml, README.md, docs/)."""

FIXTURES = ROOT / "tests" / "fixtures"
"""Recorded inputs: fixture repositories, cgroup trees, kubectl and metrics files."""
