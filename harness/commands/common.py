"""Arguments and output handling shared by subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.options import Options, artifacts_dir_for
from harness.redact import scrub_credentials


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


def add_uses_arguments(parser: argparse.ArgumentParser) -> None:
    """How remote `uses:` references are resolved (docs/remote-uses.md)."""
    from harness.github.uses.flags import FLAG_HELP

    parser.add_argument("--repo-name", default=None, metavar="OWNER/REPO",
                        help=FLAG_HELP["--repo-name"])
    parser.add_argument("--uses-source", dest="uses_sources", action="append", default=[],
                        metavar="OWNER/REPO=DIR", help=FLAG_HELP["--uses-source"])
    parser.add_argument("--uses-ttl", default=None, metavar="DURATION",
                        help=FLAG_HELP["--uses-ttl"])
    parser.add_argument("--github-api", default=None, metavar="URL",
                        help=FLAG_HELP["--github-api"])
    parser.add_argument("--offline", action="store_true", help=FLAG_HELP["--offline"])


def options_from(args: argparse.Namespace) -> Options:
    """Options from parsed arguments (missing attributes keep their defaults)."""
    from harness.github.uses.flags import parse_api, parse_repo_name, parse_sources, parse_ttl

    return Options(
        repo_name=parse_repo_name(getattr(args, "repo_name", None)),
        uses_sources=parse_sources(getattr(args, "uses_sources", ())),
        uses_ttl=parse_ttl(getattr(args, "uses_ttl", None)),
        github_api=parse_api(getattr(args, "github_api", None)),
        offline=bool(getattr(args, "offline", False)),
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
    """Write `text` (credentials in URLs removed) to `output` (whole or not at all; missing
    folders are created), or to standard output."""
    text = scrub_credentials(text)
    if output is None:
        sys.stdout.write(text)
    else:
        from harness.atomic import write_text_atomic

        write_text_atomic(output, text)
