"""Arguments and output handling shared by subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.options import Options, artifacts_dir_for


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """`--repo` and `--contract`."""
    parser.add_argument("--repo", type=Path, default=Path(),
                        help="repository to check (default: current directory)")
    parser.add_argument("--contract", type=Path, default=None,
                        help="fleet contract (default: fleet.yaml at the repo root, else the "
                             "bundled honey contract)")


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """Endpoint overrides and `--require-live`."""
    parser.add_argument("--require-live", action="store_true",
                        help="fail, instead of skipping, cases whose live endpoint or runner "
                             "is missing")
    parser.add_argument("--attic-url", default=None, help="Attic endpoint (overrides contract)")
    parser.add_argument("--bazel-cache", default=None,
                        help="Bazel remote cache URL, http(s):// or grpc(s):// "
                             "(overrides contract)")
    parser.add_argument("--attic-cache", default=None,
                        help="Attic cache name (overrides contract)")
    parser.add_argument("--artifacts-dir", type=Path, default=None,
                        help="where charts and scratch data go (default: harness-artifacts/ "
                             "next to --evidence, else .harness)")
    parser.add_argument("--kubectl-file", dest="kubectl_files", type=Path, action="append",
                        default=[], metavar="FILE",
                        help="saved `kubectl get autoscalingrunnersets,ephemeralrunners -A "
                             "-o json` or `kubectl get nodes -o json` output (repeatable)")
    parser.add_argument("--metrics-file", dest="metrics_files", type=Path, action="append",
                        default=[], metavar="FILE",
                        help="saved ARC listener metrics page, Prometheus text (repeatable)")


def options_from(args: argparse.Namespace) -> Options:
    """Options from parsed arguments (missing attributes keep their defaults)."""
    return Options(
        require_live=bool(getattr(args, "require_live", False)),
        attic_url=getattr(args, "attic_url", None),
        bazel_cache=getattr(args, "bazel_cache", None),
        attic_cache=getattr(args, "attic_cache", None),
        artifacts_dir=artifacts_dir_for(getattr(args, "artifacts_dir", None),
                                        getattr(args, "evidence", None)),
        kubectl_files=tuple(getattr(args, "kubectl_files", ())),
        metrics_files=tuple(getattr(args, "metrics_files", ())),
    )


def emit(text: str, output: Path | None) -> None:
    """Write `text` to `output`, or to standard output."""
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
