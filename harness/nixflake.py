"""Which outputs of a repository's `flake.nix` are heavy Rust builds, decided statically.

`nix build .#daemon` is as heavy as `cargo build --release` when `daemon` is a crane
release build of a Rust workspace. The flake and the local files it imports are read with
tree-sitter's Nix grammar (tolerant of syntax errors, with positions); nothing is
evaluated, so no network and no Nix are needed.

An output is heavy when its definition reaches a Rust build: a call of crane's
`buildPackage`, `cargoBuild`, `cargoTest`, `cargoNextest`, `cargoClippy`, `buildDepsOnly`,
naersk's `buildPackage`, `rustPlatform.buildRustPackage`, or a derivation whose text runs
`cargo build`. Definitions are followed through `let` names, `inherit`, and local
`import ./x.nix` / `callPackage ./x.nix` files, a bounded number of steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from harness.safe_read import MAX_TF_BYTES, UnsafeFile, read_bytes

if TYPE_CHECKING:  # loaded with the grammar, where a flake.nix is read
    from tree_sitter import Node, Parser

OUTPUT_GROUPS = ("packages", "checks", "apps", "defaultPackage", "legacyPackages")
"""Top-level flake output attributes whose members `nix build .#NAME` can name."""
_RUST_CALLS = {
    "buildPackage": "crane buildPackage",
    "cargoBuild": "crane cargoBuild",
    "cargoTest": "crane cargoTest",
    "cargoNextest": "crane cargoNextest",
    "cargoClippy": "crane cargoClippy",
    "buildDepsOnly": "crane buildDepsOnly",
    "buildRustPackage": "rustPlatform.buildRustPackage",
    "buildRustCrate": "buildRustCrate",
}
_CARGO_BUILD = re.compile(r"\bcargo\s+(?:build|test|nextest)\b")
_MAX_FILES = 64
_MAX_STEPS = 200


@dataclass(frozen=True)
class HeavyReason:
    """Why an output is heavy: what builds Rust, and where."""

    what: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.what} in {self.file}:{self.line}"


@lru_cache(maxsize=1)
def _parser() -> Parser:
    import tree_sitter_nix  # only where a flake.nix is read
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_nix.language()))


@dataclass
class _File:
    """One Nix file read: its repository-relative name, path, bytes and syntax tree."""

    rel: str
    path: Path
    source: bytes
    root: Node


@dataclass
class FlakeIndex:
    """The bindings of a flake and its local imports, by name."""

    root: Path
    files: dict[Path, _File] = field(default_factory=dict)
    bindings: dict[str, list[tuple[_File, Node]]] = field(default_factory=dict)
    outputs: dict[str, dict[str, tuple[_File, Node]]] = field(default_factory=dict)
    """Output group (`packages`, `checks`, ...) -> member name -> its definition."""

    def load(self, path: Path) -> _File | None:
        """Parse `path` (inside the repository) once; None when it cannot be read."""
        path = path.resolve()
        if path in self.files:
            return self.files[path]
        if len(self.files) >= _MAX_FILES:
            return None
        try:
            source = read_bytes(path, MAX_TF_BYTES, self.root)
        except UnsafeFile:
            return None
        rel = path.relative_to(self.root.resolve()).as_posix()
        parsed = _File(rel, path, source, _parser().parse(source).root_node)
        self.files[path] = parsed
        self._index(parsed)
        return parsed

    def _index(self, file: _File) -> None:
        for node in _walk(file.root):
            if node.type == "binding":
                names = _attrpath(node.child_by_field_name("attrpath"), file.source)
                expression = node.child_by_field_name("expression")
                if names and expression is not None:
                    self.bindings.setdefault(names[-1], []).append((file, expression))
                    self._note_output(names, file, expression)
            elif node.type == "inherit":
                for name_node in _inherited(node):
                    name = _text(name_node, file.source)
                    self.bindings.setdefault(name, []).append((file, name_node))

    def _note_output(self, names: list[str], file: _File, expression: Node) -> None:
        group = next((n for n in names if n in OUTPUT_GROUPS), None)
        if group is None:
            return
        after = names[names.index(group) + 1 :]
        members: list[tuple[str, Node]] = []
        if after and not _is_system(after[-1]):
            members.append((after[-1], expression))
        else:
            members.extend(_members(expression, file.source))
        if group == "defaultPackage" and not members:
            members.append(("default", expression))
        for name, node in members:
            self.outputs.setdefault(group, {}).setdefault(name, (file, node))


def _is_system(name: str) -> bool:
    return name.startswith("${") or name.rsplit("-", 1)[-1] in ("linux", "darwin")


def _members(expression: Node, source: bytes) -> Iterator[tuple[str, Node]]:
    """Names bound by the attribute sets an output group's value builds (through lambdas,
    `let`, per-system helpers and `//`), up to a bounded depth."""
    stack = [(expression, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > 12:
            continue
        if node.type in ("attrset_expression", "rec_attrset_expression"):
            for binding_set in node.named_children:
                for child in binding_set.named_children:
                    if child.type == "binding":
                        names = _attrpath(child.child_by_field_name("attrpath"), source)
                        value = child.child_by_field_name("expression")
                        if names and value is not None:
                            if _is_system(names[0]) and len(names) == 1:
                                stack.append((value, depth + 1))
                            else:
                                yield names[-1], value
                    elif child.type == "inherit":
                        for name_node in _inherited(child):
                            yield _text(name_node, source), name_node
            continue
        for child in node.named_children:
            if child.type not in ("formals", "binding_set") or node.type == "let_expression":
                stack.append((child, depth + 1))


def _inherited(node: Node) -> list[Node]:
    attrs = node.child_by_field_name("attrs")
    return [c for c in (attrs.named_children if attrs else []) if c.type == "identifier"]


def _text(node: Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _attrpath(node: Node | None, source: bytes) -> list[str]:
    if node is None:
        return []
    return [_text(c, source).strip('"') for c in node.named_children]


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    count = 0
    while stack and count < 500_000:
        current = stack.pop()
        count += 1
        yield current
        stack.extend(reversed(current.named_children))


def _called_name(node: Node, source: bytes) -> str | None:
    """The last attribute of an apply expression's function (`craneLib.buildPackage`)."""
    function = node.child_by_field_name("function")
    while function is not None and function.type == "apply_expression":
        function = function.child_by_field_name("function")
    if function is None:
        return None
    if function.type == "select_expression":
        names = _attrpath(function.child_by_field_name("attrpath"), source)
        return names[-1] if names else None
    if function.type == "variable_expression":
        return _text(function, source)
    return None


def _local_path(node: Node, file: _File) -> Path | None:
    if node.type != "path_expression":
        return None
    text = _text(node, file.source)
    if not text.startswith("./") and not text.startswith("../"):
        return None
    target = (file.path.parent / text).resolve()
    return target / "default.nix" if target.is_dir() else target


def _rust_in(
    index: FlakeIndex, file: _File, node: Node, seen: set[tuple[Path, int]], budget: list[int]
) -> HeavyReason | None:
    """The first Rust build reachable from `node`, following names and local imports."""
    for current in _walk(node):
        budget[0] -= 1
        if budget[0] <= 0:
            return None
        kind = current.type
        if kind == "apply_expression":
            called = _called_name(current, file.source)
            if called in _RUST_CALLS:
                what = _RUST_CALLS[called]
                if called == "buildPackage" and "naersk" in _text(current, file.source)[:80]:
                    what = "naersk buildPackage"
                return HeavyReason(what, file.rel, current.start_point[0] + 1)
        elif kind in ("string_expression", "indented_string_expression"):
            match = _CARGO_BUILD.search(_text(current, file.source))
            if match:
                return HeavyReason(
                    f"a derivation running `{match.group(0)}`", file.rel, current.start_point[0] + 1
                )
        elif kind == "path_expression":
            target = _local_path(current, file)
            if target is not None and (target, -1) not in seen:
                seen.add((target, -1))
                imported = index.load(target)
                if imported is not None:
                    found = _rust_in(index, imported, imported.root, seen, budget)
                    if found:
                        return found
        elif kind == "variable_expression" or (kind == "identifier" and current is node):
            name = _text(current, file.source)
            for other_file, definition in index.bindings.get(name, ()):
                key = (other_file.path, definition.start_byte)
                if key in seen or definition is current:
                    continue
                seen.add(key)
                found = _rust_in(index, other_file, definition, seen, budget)
                if found:
                    return found
    return None


def load_flake(directory: Path) -> FlakeIndex | None:
    """The index of `directory/flake.nix` and what it imports, or None without a flake."""
    index = FlakeIndex(directory)
    flake = directory / "flake.nix"
    if not flake.exists() or index.load(flake) is None:
        return None
    return index


def heavy_reason(
    index: FlakeIndex, name: str, groups: tuple[str, ...] = OUTPUT_GROUPS
) -> HeavyReason | None:
    """Why output `name` (of any of `groups`) builds Rust, or None when it does not."""
    for group in groups:
        entry = index.outputs.get(group, {}).get(name)
        if entry is None:
            continue
        file, node = entry
        found = _rust_in(index, file, node, set(), [_MAX_STEPS * 50])
        if found:
            return found
    return None


def heavy_checks(index: FlakeIndex) -> list[tuple[str, HeavyReason]]:
    """The `checks` outputs that build Rust (what `nix flake check` builds)."""
    found = []
    for name in sorted(index.outputs.get("checks", {})):
        reason = heavy_reason(index, name, ("checks",))
        if reason:
            found.append((name, reason))
    return found


_VALUE_OPTIONS = {
    "-o",
    "--out-link",
    "--system",
    "--max-jobs",
    "-j",
    "--cores",
    "--profile",
    "--eval-store",
    "--store",
    "--builders",
    "--log-format",
    "--reference-lock-file",
    "--output-lock-file",
    "--inputs-from",
    "--expr",
    "-f",
    "--file",
    "--include",
    "-I",
    "--keep",
    "-k",
    "--unset",
    "-u",
    "--phase",
}
_TWO_VALUE_OPTIONS = {
    "--option",
    "--override-input",
    "--arg",
    "--argstr",
    "--override-flake",
    "--set-env",
}


def installables(args: tuple[str, ...]) -> tuple[str, list[str]]:
    """The nix subcommand (`build`, `run`, `flake check`, ...) and its installables."""
    words: list[str] = []
    skip = 0
    for arg in args:
        if skip:
            skip -= 1
            continue
        if arg in ("--", "-c", "--command"):
            break
        if arg in _TWO_VALUE_OPTIONS:
            skip = 2
        elif arg in _VALUE_OPTIONS:
            skip = 1
        elif not arg.startswith("-"):
            words.append(arg)
    if not words:
        return "", []
    if words[0] == "flake" and len(words) > 1:
        return f"flake {words[1]}", words[2:]
    return words[0], words[1:]


def local_flake_attr(installable: str) -> tuple[str, str] | None:
    """(flake directory relative to the repository, output name) of a local installable.

    `.#daemon` -> (".", "daemon"); `./sub#packages.x86_64-linux.cli` -> ("sub", "cli");
    `.` -> (".", "default"). Remote flakes (`github:...`, `nixpkgs#...`) give None.
    """
    ref, _, attr = installable.partition("#")
    ref = ref.removeprefix("path:").removeprefix("git+file:")
    if ref in ("", "."):
        directory = "."
    elif ref.startswith("./"):
        directory = ref[2:].rstrip("/") or "."
    else:
        return None
    if ".." in directory.split("/") or "${{" in installable:
        return None
    name = attr.rsplit(".", 1)[-1].strip('"') if attr else "default"
    return directory, name or "default"


class FlakeHeaviness:
    """Decides whether a `nix` command builds a heavy flake output of the repository."""

    def __init__(self, repo: Path, override: tuple[str, ...] | None = None) -> None:
        self.repo = repo
        self.override = override
        self._flakes: dict[str, FlakeIndex | None] = {}

    def _flake(self, directory: str) -> FlakeIndex | None:
        if directory not in self._flakes:
            self._flakes[directory] = load_flake(self.repo / directory)
        return self._flakes[directory]

    def _output(self, directory: str, name: str) -> str | None:
        if self.override is not None:
            return "listed in placement.heavy_outputs" if name in self.override else None
        index = self._flake(directory)
        reason = heavy_reason(index, name) if index is not None else None
        return str(reason) if reason else None

    def explain(self, name: str, args: tuple[str, ...]) -> str | None:
        """Why `nix ARGS` builds a heavy output, or None (`name` is the command word)."""
        if name != "nix":
            return None
        sub, targets = installables(args)
        if sub == "flake check":
            directory = (local_flake_attr(targets[0]) or (None, ""))[0] if targets else "."
            if directory is None:
                return None
            if self.override is not None:
                index = self._flake(directory)
                checks = index.outputs.get("checks", {}) if index else {}
                listed = sorted(set(checks) & set(self.override))
                return f"checks `{listed[0]}` listed in placement.heavy_outputs" if listed else None
            index = self._flake(directory)
            found = heavy_checks(index) if index is not None else []
            if found:
                check, reason = found[0]
                return f"`nix flake check` builds check `{check}`: {reason}"
            return None
        if sub not in ("build", "run", "shell", "bundle", "develop", "print-dev-env"):
            return None
        if sub in ("develop", "print-dev-env"):
            return None  # a dev shell builds inputs, not the output; `-c X` is read as X
        for target in targets or ["."]:
            local = local_flake_attr(target)
            if local is None:
                continue
            why = self._output(*local)
            if why:
                return f"flake output `{local[1]}` is a Rust build: {why}"
            if sub == "run":
                break  # arguments after the installable belong to the program
        return None
