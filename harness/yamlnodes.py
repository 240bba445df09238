"""YAML loading that remembers where every key and item came from.

Workflows, actions, contracts and scenario files are composed with libyaml's
`CSafeLoader` (when present) and turned into plain dicts and lists that carry
1-based line and column numbers. Keys are read as written, so `on:` stays the
string "on" instead of the boolean YAML 1.1 makes of it; only `true`/`false`
are booleans. Duplicate keys are an error, as they are for GitHub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import yaml

from harness.errors import HarnessError

try:
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
MAX_ALIAS_NODES = 10_000
"""Most nodes that aliases may stand for in one document (each alias counts its anchor's
expanded size): past it the document is refused, as a "billion laughs" would be."""


class Mark(NamedTuple):
    """Where a YAML value starts: 1-based line and column, and its scalar style."""

    line: int
    column: int
    style: str | None = None  # "|" or ">" for block scalars, quotes for quoted scalars

    @property
    def block(self) -> bool:
        """True for `|` and `>` scalars, whose text starts on the next line."""
        return self.style in ("|", ">")


class YamlError(HarnessError, ValueError):
    """A YAML document could not be read; carries file and line."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {message}")


class LMap(dict[str, Any]):
    """A mapping that remembers the marks of its keys and values."""

    mark: Mark
    key_marks: dict[str, Mark]
    value_marks: dict[str, Mark]

    def line_of(self, key: str) -> int:
        """Line of `key` in this mapping, or of the mapping itself when absent."""
        mark = self.key_marks.get(key)
        return mark.line if mark else self.mark.line

    def value_mark(self, key: str) -> Mark:
        """Mark of the value under `key` (the mapping's own mark when absent)."""
        return self.value_marks.get(key, self.mark)


class LList(list[Any]):
    """A sequence that remembers the marks of its items."""

    mark: Mark
    item_marks: list[Mark]

    def line_of(self, index: int) -> int:
        """Line of item `index`."""
        return self.item_marks[index].line if index < len(self.item_marks) else self.mark.line


def _mark(node: yaml.Node) -> Mark:
    start = node.start_mark
    return Mark(start.line + 1, start.column + 1, getattr(node, "style", None) or None)


def _scalar(node: yaml.ScalarNode) -> Any:
    value: str = node.value
    if node.style:  # quoted or block scalars are always strings
        return value
    tag = node.tag
    if tag == _NULL:
        return None
    if tag == _BOOL:
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return value
    if tag == _INT:
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    if tag == _FLOAT:
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value
    return value


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self._depth = 0
        # an alias is the same node as its anchor: build it once and share the result, so
        # that nested aliases ("billion laughs") cost nothing instead of exponential time
        self._built: dict[int, Any] = {}
        # ... but every consumer that walks the document sees each alias expanded: count
        # the nodes aliases stand for, and refuse a document past MAX_ALIAS_NODES
        self._sizes: dict[int, int] = {}
        self._aliased = 0

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        built = self._built.get(id(node))
        if built is not None:
            self._aliased += self._sizes[id(node)]
            if self._aliased > MAX_ALIAS_NODES:
                raise YamlError(
                    self.file,
                    node.start_mark.line + 1,
                    f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
                    "(an alias bomb?): refused",
                )
            return built
        self._depth += 1
        if self._depth > 200:
            raise YamlError(self.file, node.start_mark.line + 1, "YAML nests too deeply")
        try:
            if isinstance(node, yaml.SequenceNode):
                built = self._sequence(node)
            elif isinstance(node, yaml.MappingNode):
                built = self._mapping(node)
            else:
                raise YamlError(self.file, node.start_mark.line + 1, "unsupported YAML node")
        finally:
            self._depth -= 1
        self._built[id(node)] = built
        children = (
            node.value
            if isinstance(node, yaml.SequenceNode)
            else [value for _, value in node.value]
        )
        self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 1) for child in children)
        return built

    def _sequence(self, node: yaml.SequenceNode) -> LList:
        out = LList(self.build(item) for item in node.value)
        out.mark = _mark(node)
        out.item_marks = [_mark(item) for item in node.value]
        return out

    def _mapping(self, node: yaml.MappingNode) -> LMap:
        out = LMap()
        out.mark = _mark(node)
        out.key_marks = {}
        out.value_marks = {}
        merged: list[LMap] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                value = self.build(value_node)
                merged.extend(
                    v
                    for v in (value if isinstance(value, list) else [value])
                    if isinstance(v, LMap)
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(
                    self.file, key_node.start_mark.line + 1, "mapping keys must be plain scalars"
                )
            key = str(key_node.value)
            if key in out:
                raise YamlError(
                    self.file,
                    key_node.start_mark.line + 1,
                    f"duplicate key {key!r} (first at line {out.key_marks[key].line})",
                )
            out[key] = self.build(value_node)
            out.key_marks[key] = _mark(key_node)
            out.value_marks[key] = _mark(value_node)
        for source in merged:
            for key, value in source.items():
                if key not in out:
                    out[key] = value
                    out.key_marks[key] = source.key_marks[key]
                    out.value_marks[key] = source.value_marks[key]
        return out


def loads(text: str, file: str = "<string>") -> Any:
    """Parse one YAML document from `text`; `file` names it in errors."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(file, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(file, None, f"invalid YAML: {exc}") from None
    if node is None:
        return None
    return _Builder(file).build(node)


def load(
    path: Path, display: str | None = None, limit: int | None = None, root: Path | None = None
) -> Any:
    """Read and parse the YAML file at `path` (a regular file of at most `limit` bytes,
    default `safe_read.MAX_CONTRACT_BYTES`, inside `root` when given); errors name it as
    `display`."""
    from harness.safe_read import MAX_CONTRACT_BYTES, UnsafeFile, read_text

    name = display or str(path)
    try:
        text = read_text(path, MAX_CONTRACT_BYTES if limit is None else limit, root)
    except UnsafeFile as exc:
        raise YamlError(name, None, f"cannot read: {exc.reason}") from None
    return loads(text, name)


def line_of_path(root: Any, path: list[str | int] | tuple[str | int, ...]) -> int | None:
    """Line of the deepest node reached by `path` (keys and indexes) from `root`."""
    node = root
    line = node.mark.line if isinstance(node, LMap | LList) else None
    for part in path:
        if isinstance(node, LMap) and isinstance(part, str) and part in node:
            line, node = node.line_of(part), node[part]
        elif isinstance(node, LList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.line_of(part), node[part]
        else:
            break
    return line
