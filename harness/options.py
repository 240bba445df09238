"""Run options: one table for both front doors, the CLI and the pytest plugin.

Every option is one field of `Options`, declared with `option(...)`: its flag, help text,
whether it repeats, an optional environment variable and an optional validator. From that
one declaration (in the style of tavern's `add_parser_options`):

- `add_cli_options(parser, *names)` adds it as a flag of a CLI command (`check` takes every
  option; other commands name the ones they take);
- the pytest plugin adds it as a command-line option and as the ini key `harness_<field>`
  (`harness.plugin.pytest_addoption`);
- a value comes from the flag, else the environment variable (when one is declared), else
  the ini key (pytest only), else the default (`resolve`);
- `Options(...)` validates it (endpoint URL schemes, ...): bad input is a HarnessInputError
  naming the flag, whichever door it came through.

Adding an option is one field, for example:

    offline: bool = option(False, "--offline", env="HARNESS_OFFLINE",
                           help="never touch the network")

It is then a `check` flag, a plugin option, the ini key `harness_offline`, and
`ctx.options.offline` for every check. Another command takes it with
`add_cli_options(parser, "offline")`. See docs/development.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import HarnessInputError
from harness.urls import BAZEL, HTTP, require_scheme

T = TypeVar("T")
_META = "harness.option"
_USES = "harness.github.uses.flags"


@dataclass(frozen=True)
class Option:
    """How one field of `Options` is asked for at both front doors."""

    flag: str
    help: str
    kind: type = str
    """`str`, `Path`, `float`, `int` or `bool` (a switch); the type of one value."""
    repeatable: bool = False
    env: str | None = None
    metavar: str | None = None
    plugin_flags: tuple[str, ...] = ()
    """The plugin's flags when they differ from `flag` (pytest owns some names)."""
    validate: Callable[[str, Any], None] | None = None
    """Called with the flag and a given value; raises HarnessInputError."""
    parse: str | None = None
    """`module:function` turning the raw text (a list of texts for a repeatable option) into
    the field's value, raising HarnessInputError; imported only when the option is given."""

    @property
    def pytest_flags(self) -> tuple[str, ...]:
        """The plugin's flags."""
        return self.plugin_flags or (self.flag,)

    def convert(self, raw: Any) -> Any:
        """A value of this option's kind from a flag, ini or environment value."""
        if self.repeatable and isinstance(raw, str):
            raw = raw.split(os.pathsep)
        if self.parse is not None:
            module, _, name = self.parse.partition(":")
            return getattr(importlib.import_module(module), name)(raw)
        if self.repeatable:
            items = raw.split(os.pathsep) if isinstance(raw, str) else list(raw)
            return tuple(self._one(item) for item in items if str(item))
        return self._one(raw)

    def _one(self, raw: Any) -> Any:
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("", "0", "false", "no", "off"):
                return False
            raise HarnessInputError(f"{self.flag}: {raw!r} is not a yes/no value")
        try:
            return self.kind(raw)
        except ValueError:
            raise HarnessInputError(f"{self.flag}: {raw!r} is not a {self.kind.__name__}") from None


def option(
    default: T,
    flag: str,
    *,
    help: str,
    kind: type | None = None,
    repeatable: bool = False,
    env: str | None = None,
    metavar: str | None = None,
    plugin_flags: tuple[str, ...] = (),
    validate: Callable[[str, Any], None] | None = None,
    parse: str | None = None,
) -> T:
    """Declare a field of `Options` as an option of both front doors."""
    inferred = str if parse or default is None else type(default)
    declared = Option(
        flag, help, kind or inferred, repeatable, env, metavar, plugin_flags, validate, parse
    )
    field: T = dataclasses.field(default=default, metadata={_META: declared})
    return field


def _url(*schemes: str) -> Callable[[str, Any], None]:
    def check(flag: str, value: Any) -> None:
        require_scheme(str(value), schemes, flag)

    return check


@dataclass(frozen=True)
class Options:
    """How a run was asked for. Checks read what they need and ignore the rest."""

    repo: Path | None = option(
        None,
        "--repo",
        kind=Path,
        metavar="DIR",
        plugin_flags=("--harness-repo",),
        help="repository to check (default: the current directory; for pytest, the rootdir)",
    )
    contract: Path | None = option(
        None,
        "--contract",
        kind=Path,
        metavar="FILE",
        plugin_flags=("--contract", "--harness-contract"),
        help="fleet contract (default: fleet.yaml at the repo "
        "root, else the bundled honey contract)",
    )
    suites: tuple[str, ...] = option(
        (),
        "--suite",
        kind=str,
        repeatable=True,
        metavar="NAME",
        help="run only this suite (repeatable; default: all)",
    )
    require_live: bool = option(
        False,
        "--require-live",
        help="fail, instead of skipping, cases whose live endpoint or runner is missing",
    )
    attic_url: str | None = option(
        None,
        "--attic-url",
        metavar="URL",
        validate=_url(*HTTP),
        help="Attic endpoint, http(s):// (overrides the contract)",
    )
    attic_cache: str | None = option(
        None, "--attic-cache", metavar="NAME", help="Attic cache name (overrides the contract)"
    )
    bazel_cache: str | None = option(
        None,
        "--bazel-cache",
        metavar="URL",
        validate=_url(*BAZEL),
        help="Bazel remote cache URL, http(s):// or grpc(s):// (overrides the contract)",
    )
    evidence: Path | None = option(
        None,
        "--evidence",
        kind=Path,
        metavar="FILE",
        help="also write the JSON report here as release evidence",
    )
    artifacts_dir: Path | None = option(
        None,
        "--artifacts-dir",
        kind=Path,
        metavar="DIR",
        help="where charts and scratch data go (default: "
        "harness-artifacts/ next to --evidence, else "
        ".harness)",
    )
    kubectl_files: tuple[Path, ...] = option(
        (),
        "--kubectl-file",
        kind=Path,
        repeatable=True,
        metavar="FILE",
        help="saved `kubectl get autoscalingrunnersets,"
        "ephemeralrunners -A -o json` or `kubectl "
        "get nodes -o json` output (repeatable)",
    )
    metrics_files: tuple[Path, ...] = option(
        (),
        "--metrics-file",
        kind=Path,
        repeatable=True,
        metavar="FILE",
        help="saved ARC listener metrics page, Prometheus text (repeatable)",
    )
    repo_name: str | None = option(
        None,
        "--repo-name",
        metavar="OWNER/REPO",
        parse=f"{_USES}:parse_repo_name",
        help="OWNER/REPO of the checked repository (default: the "
        "contract's forge.repository, else the origin remote)",
    )
    uses_sources: tuple[tuple[str, Path], ...] = option(
        (),
        "--uses-source",
        repeatable=True,
        metavar="OWNER/REPO=DIR",
        parse=f"{_USES}:parse_sources",
        help="local clone for remote `uses:` of OWNER/REPO, as OWNER/REPO=DIR (repeatable)",
    )
    uses_ttl: float = option(
        3600.0,
        "--uses-ttl",
        metavar="DURATION",
        parse=f"{_USES}:parse_ttl",
        help="how long cached remote files at a tag or branch stay "
        "fresh: seconds or 30m, 1h, 2d (default 1h; full SHAs never "
        "expire)",
    )
    github_api: str | None = option(
        None,
        "--github-api",
        metavar="URL",
        env="GITHUB_API_URL",
        validate=_url(*HTTP),
        parse=f"{_USES}:parse_api",
        help="GitHub REST API URL (default $GITHUB_API_URL, else "
        "https://api.github.com; GitHub Enterprise: "
        "https://HOST/api/v3)",
    )
    offline: bool = option(
        False,
        "--offline",
        help="never ask the GitHub API for remote `uses:` (unresolved ones are WF004)",
    )
    static: bool = option(
        False,
        "--static",
        help="run only the static cases: no network, no Nix, Bazel or nginx, "
        "no cgroups (the fast repository check)",
    )
    progress: bool = option(
        False,
        "--progress",
        help="print a line per case as it finishes and what was proven, to stderr "
        "(`check`: also when stderr is a terminal; pytest: the closing summary)",
    )
    runner_phase: str | None = None
    """`before` or `after` the workflow's Nix install (set by the `runner` command)."""

    def __post_init__(self) -> None:
        for name, declared in OPTION_TABLE.items():
            value = getattr(self, name)
            if declared.validate is not None and value not in (None, (), False):
                for item in value if declared.repeatable else (value,):
                    declared.validate(declared.flag, item)
        if self.artifacts_dir is None:
            object.__setattr__(self, "artifacts_dir", artifacts_dir_for(None, self.evidence))

    @property
    def artifacts(self) -> Path:
        """Where checks write artifacts (memory charts, scratch caches)."""
        return self.artifacts_dir or Path(".harness")


OPTION_TABLE: dict[str, Option] = {
    f.name: f.metadata[_META] for f in dataclasses.fields(Options) if _META in f.metadata
}
"""Field name -> its front-door declaration, in declaration order."""
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Options)}
USES_OPTIONS = ("repo_name", "uses_sources", "uses_ttl", "github_api", "offline")
"""How remote `uses:` are resolved (docs/remote-uses.md): taken by `check` and `graph`."""


def artifacts_dir_for(explicit: str | Path | None, evidence: str | Path | None) -> Path:
    """`--artifacts-dir` when given, else `harness-artifacts/` next to the evidence file,
    else `.harness/`."""
    if explicit is not None:
        return Path(explicit)
    if evidence is not None:
        return Path(evidence).parent / "harness-artifacts"
    return Path(".harness")


def resolve(
    name: str, given: Any, ini: Any = None, environ: Mapping[str, str] | None = None
) -> Any:
    """The value of option `name`: the flag's, else the environment's, else the ini's."""
    declared = OPTION_TABLE[name]
    if given not in (None, [], (), False):
        return declared.convert(given)
    env = os.environ if environ is None else environ
    if declared.env and env.get(declared.env):
        return declared.convert(env[declared.env])
    if ini not in (None, [], "", ()):
        return declared.convert(ini)
    return _DEFAULTS[name]


def options_from(
    values: Mapping[str, Any], inis: Mapping[str, Any] | None = None, **extra: Any
) -> Options:
    """Options from a front door's raw values by field name (missing ones: env or default)."""
    resolved = {
        name: resolve(name, values.get(name), (inis or {}).get(name)) for name in OPTION_TABLE
    }
    return Options(**resolved, **extra)


def add_cli_options(parser: argparse.ArgumentParser, *names: str) -> None:
    """Add the named options (all when none are named) as flags of a CLI command."""
    for name in names or tuple(OPTION_TABLE):
        declared = OPTION_TABLE[name]
        kwargs: dict[str, Any] = {"dest": name, "help": declared.help}
        if declared.kind is bool:
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = declared.metavar
            kwargs["type"] = declared.kind
            kwargs["action"] = "append" if declared.repeatable else "store"
        kwargs["default"] = [] if declared.repeatable else None
        parser.add_argument(declared.flag, **kwargs)


def cli_options(args: argparse.Namespace, **extra: Any) -> Options:
    """Options from parsed CLI arguments (options a command does not take: env or default)."""
    return options_from({name: getattr(args, name, None) for name in OPTION_TABLE}, **extra)
