"""OpenTofu stacks of a repository: root modules, their backends, variables and modules.

A *stack* is a directory of `.tf` files that is a root module: not under a `modules/`
directory and not the local `source` of another directory's `module` block. Variable values
follow OpenTofu's precedence: `variables.tf` defaults, then `terraform.tfvars`,
`terraform.tfvars.json`, then `*.auto.tfvars` / `*.auto.tfvars.json` in lexical order (later
wins). Other `*.tfvars` files (`beehive.tfvars`) are per-deployment var files, kept apart
(`Stack.var_files`). Files such as `terraform.tfvars.example` are never read. Hidden directories,
`.terraform/`, `node_modules/`, and `fixtures`/`testdata` directories are not searched.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from harness.tofu.hcl import Block, HclFile, HclProblem, read_hcl
from harness.tofu.values import Origin, Resolved, Scope, contains_expression

SKIP_DIRS = frozenset(
    {
        ".git",
        ".terraform",
        "node_modules",
        "fixtures",
        "testdata",
        "__pycache__",
        ".direnv",
        "result",
    }
)


@dataclass(frozen=True)
class Setting:
    """One backend setting and the file it is written in."""

    value: Any
    file: str
    line: int


@dataclass
class Backend:
    """A `terraform { backend "TYPE" { ... } }` block, with `*.tfbackend` partial config."""

    type: str
    block: Block
    settings: dict[str, Setting] = field(default_factory=dict)


@dataclass
class TofuDir:
    """One directory of `.tf` files (a stack or a module)."""

    path: str
    files: list[HclFile] = field(default_factory=list)
    problems: list[HclProblem] = field(default_factory=list)

    def blocks(self, kind: str) -> list[Block]:
        """Top-level blocks of one type across the directory's files."""
        return [b for f in self.files for b in f.blocks if b.type == kind]

    def variable_defaults(self) -> dict[str, Resolved]:
        """`variable` blocks -> their defaults (unresolved when there is none)."""
        out: dict[str, Resolved] = {}
        for block in self.blocks("variable"):
            name = block.labels[0] if block.labels else ""
            if "default" in block.attributes:
                value = block.get("default")
                if contains_expression(value):
                    out[name] = Resolved(problem=f"the default of var.{name} is an expression")
                else:
                    attribute = block.attributes["default"]
                    out[name] = Resolved(
                        value,
                        Origin(block.file, attribute.line, f"default of var.{name}"),
                        lines=attribute.key_lines,
                    )
            else:
                out[name] = Resolved(
                    problem=f"var.{name} has no default and no tfvars value "
                    f"({block.file}:{block.line})"
                )
        return out

    def literal_locals(self) -> dict[str, Resolved]:
        """`locals` whose values are literals."""
        out: dict[str, Resolved] = {}
        for block in self.blocks("locals"):
            for name, attribute in block.attributes.items():
                if not contains_expression(attribute.value):
                    out[name] = Resolved(
                        attribute.value, Origin(block.file, attribute.line, f"local.{name}")
                    )
        return out


@dataclass
class Stack(TofuDir):
    """A root module: what `tofu init/plan` runs in."""

    tfvars: list[HclFile] = field(default_factory=list)
    var_files: list[HclFile] = field(default_factory=list)
    """Other `*.tfvars` files, given with `-var-file=` per deployment (not auto-loaded)."""
    backend: Backend | None = None

    def scope(self, var_file: HclFile | None = None) -> Scope:
        """Variables: defaults, the auto-loaded tfvars, then `var_file` when given."""
        variables = self.variable_defaults()
        for tfvars in [*self.tfvars, *([var_file] if var_file else [])]:
            for name, attribute in tfvars.attributes.items():
                variables[name] = Resolved(
                    attribute.value,
                    Origin(tfvars.path, attribute.line, f"{PurePosixPath(tfvars.path).name}"),
                    lines=attribute.key_lines,
                )
        return Scope(variables=variables, locals=self.literal_locals())


@dataclass
class TofuRepo:
    """Every stack and module directory found, and the files that could not be read."""

    root: Path
    stacks: list[Stack] = field(default_factory=list)
    modules: dict[str, TofuDir] = field(default_factory=dict)
    problems: list[HclProblem] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What readers derived from this (cached) repository, by reader: reused while the
    files are unchanged."""

    def module_dir(self, caller: str, source: str) -> TofuDir | None:
        """The local module a `source = "../x"` names, relative to the calling directory."""
        if not source.startswith(("./", "../")):
            return None
        target = _join(caller, source)
        if target in self.modules:
            return self.modules[target]
        path = self.root / target
        if not path.is_dir() or target.startswith(".."):
            return None
        directory = _read_dir(self.root, target, sorted(path.glob("*.tf")))
        self.modules[target] = directory
        self.problems.extend(directory.problems)
        return directory


def _join(directory: str, source: str) -> str:
    """`tofu/stacks/x` + `../../modules/y` -> `tofu/modules/y` (lexically, like OpenTofu)."""
    return os.path.normpath(PurePosixPath(directory) / source).replace(os.sep, "/")


def _read_dir(
    root: Path,
    rel: str,
    paths: Iterable[Path],
    ahead: Mapping[Path, HclFile | HclProblem] | None = None,
) -> TofuDir:
    directory = TofuDir(rel)
    for path in paths:
        file = path.relative_to(root).as_posix()
        parsed = ahead[path] if ahead and path in ahead else read_hcl(path, file, root)
        if isinstance(parsed, HclProblem):
            directory.problems.append(parsed)
        else:
            directory.files.append(parsed)
    return directory


def _tfvars_paths(directory: Path) -> list[Path]:
    names = [n for n in ("terraform.tfvars", "terraform.tfvars.json") if (directory / n).is_file()]
    auto = sorted(
        p.name
        for p in directory.iterdir()
        if p.is_file() and p.name.endswith((".auto.tfvars", ".auto.tfvars.json"))
    )
    return [directory / n for n in (*names, *auto)]


def _var_file_paths(directory: Path) -> list[Path]:
    auto = {p.name for p in _tfvars_paths(directory)}
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.name not in auto and p.name.endswith((".tfvars", ".tfvars.json"))
    )


def _backend(stack: Stack, root: Path) -> Backend | None:
    for block in stack.blocks("terraform"):
        for inner in block.children("backend"):
            backend = Backend(
                inner.labels[0] if inner.labels else "",
                inner,
                {n: Setting(a.value, inner.file, a.line) for n, a in inner.attributes.items()},
            )
            directory = root / stack.path
            for path in sorted(directory.glob("*.tfbackend")):
                parsed = read_hcl(path, path.relative_to(root).as_posix(), root)
                if isinstance(parsed, HclFile):
                    for name, attribute in parsed.attributes.items():
                        backend.settings.setdefault(
                            name, Setting(attribute.value, parsed.path, attribute.line)
                        )
                else:
                    stack.problems.append(parsed)
            return backend
    return None


def _tf_dirs(root: Path) -> tuple[dict[str, list[str]], float]:
    """Directories holding `.tf` files (relative path -> file paths), and the newest mtime of
    any file in them (what the cache of parsed repositories is keyed by)."""
    found: dict[str, list[str]] = {}
    newest = 0.0
    prefix = len(str(root)) + 1
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        # a `x.tf` that is a symlink to a directory is listed among `dirs`: read_hcl says
        # why it is skipped (STATE003) instead of leaving it out silently
        tf = sorted(f for f in [*files, *dirs] if f.endswith(".tf"))
        if not tf:
            continue
        rel = current[prefix:].replace(os.sep, "/") or "."
        found[rel] = [f"{current}{os.sep}{name}" for name in tf]
        with contextlib.suppress(OSError), os.scandir(current) as entries:
            for entry in entries:
                if entry.is_file():
                    newest = max(newest, entry.stat().st_mtime)
    return found, newest


READ_AHEAD_MIN_FILES = 24
"""`.tf` files from which they are parsed in two processes (below, the fork costs more)."""


def _read_ahead(root: Path, paths: list[Path]) -> dict[Path, HclFile | HclProblem]:
    """The `.tf` files of a large repository parsed in two processes, where two CPUs can run
    (`harness.helper_process`): the helper's files come back with their values read."""
    from harness.helper_process import available, fork_map

    if len(paths) < READ_AHEAD_MIN_FILES or not available():
        return {}
    here = os.getpid()

    def read(index: int) -> HclFile | HclProblem:
        parsed = read_hcl(paths[index], paths[index].relative_to(root).as_posix(), root)
        if os.getpid() != here and isinstance(parsed, HclFile):
            parsed.read_values()  # no syntax tree to send back
        return parsed

    return {paths[index]: parsed for index, parsed in fork_map(len(paths), read).items()}


@lru_cache(maxsize=8)
def _load_cached(
    root: Path, stamp: float, found: tuple[tuple[str, tuple[str, ...]], ...]
) -> TofuRepo:
    repo = TofuRepo(root)
    ahead = _read_ahead(root, [Path(p) for _, paths in found for p in paths])
    dirs = {rel: _read_dir(root, rel, [Path(p) for p in paths], ahead) for rel, paths in found}
    parsed: dict[Path, HclFile | HclProblem] = {}

    def read(path: Path) -> HclFile | HclProblem:  # a stack's tfvars are read once
        if path not in parsed:
            parsed[path] = read_hcl(path, path.relative_to(root).as_posix(), root)
        return parsed[path]

    referenced: set[str] = set()
    for rel, directory in dirs.items():
        repo.problems.extend(directory.problems)
        for module in directory.blocks("module"):
            source = module.get("source")
            if isinstance(source, str) and source.startswith(("./", "../")):
                referenced.add(_join(rel, source))
    for rel, directory in dirs.items():
        if rel in referenced or "modules" in PurePosixPath(rel).parts:
            repo.modules[rel] = directory
            continue
        stack = Stack(rel, directory.files, [])
        stack.tfvars = [f for p in _tfvars_paths(root / rel) if isinstance(f := read(p), HclFile)]
        stack.var_files = [
            f for p in _var_file_paths(root / rel) if isinstance(f := read(p), HclFile)
        ]
        stack.backend = _backend(stack, root)
        repo.problems.extend(stack.problems)
        repo.stacks.append(stack)
    for rel in dirs:
        for path in _tfvars_paths(root / rel):
            if isinstance(problem := read(path), HclProblem):
                repo.problems.append(problem)
    return repo


def load_tofu(root: Path) -> TofuRepo:
    """Read every stack and module under `root` (cached per directory state)."""
    root = root.resolve()
    found, stamp = _tf_dirs(root)
    return _load_cached(root, stamp, tuple((rel, tuple(paths)) for rel, paths in found.items()))
