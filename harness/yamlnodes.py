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
MAX_NESTING = 200
"""Deepest nesting of collections a document may have: deeper is refused."""
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

    @property
    def text_line(self) -> int:
        """The line a scalar's text starts on (the next one for a block scalar)."""
        return self.line + 1 if self.block else self.line


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

    __slots__ = ("key_marks", "mark", "value_marks")
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

    __slots__ = ("item_marks", "mark")
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
        if self._depth > MAX_NESTING:
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


class _Unusual(Exception):
    """The fast reader met something it leaves to the composing reader (an error above all)."""


_PLAIN: dict[str, Any] = {}
"""Plain scalars already read: text -> value (keys and values recur across files)."""
_PLAIN_MAX = 8192


def _implicit_tag(value: str) -> str:
    """The tag `Resolver` gives an untagged plain scalar."""
    resolvers = yaml.resolver.Resolver.yaml_implicit_resolvers
    for tag, regexp in resolvers.get(value[:1], []) + resolvers.get(None, []):
        if regexp.match(value):
            return str(tag)
    return "tag:yaml.org,2002:str"


def _plain(value: str) -> Any:
    """The value of an untagged plain scalar (remembered)."""
    try:
        return _PLAIN[value]
    except KeyError:
        pass
    result = _scalar(yaml.ScalarNode(_implicit_tag(value), value))
    if len(_PLAIN) < _PLAIN_MAX and len(value) <= 200:
        _PLAIN[value] = result
    return result


def _tagged(event: Any) -> tuple[Any, str]:
    """(value, tag) of a scalar event that is not an untagged plain scalar."""
    tag = event.tag
    if tag is None or tag == "!":
        tag = _implicit_tag(event.value) if event.implicit[0] else "tag:yaml.org,2002:str"
    return _scalar(yaml.ScalarNode(tag, event.value, style=event.style or None)), tag


_MAP, _SEQ, _TOP = 0, 1, 2
_MERGE_KEY: Any = object()
"""The pending key of a mapping frame whose key was `<<` (a merge)."""


def _fast(text: str) -> Any:
    """The document built straight from libyaml's events, as `_Builder` builds the composed
    node tree (no node tree, no Python resolver call per scalar). Anything unusual (an error,
    an alias inside its own anchor, more than one document) raises `_Unusual`."""
    parser = _Loader(text)
    try:
        return _events(parser)
    finally:
        parser.dispose()


def _events(parser: Any) -> Any:  # noqa: PLR0915 - one loop over the events, kept flat for speed
    get = parser.get_event
    plain: dict[str, Any] = _PLAIN
    new_mark = tuple.__new__
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    get()  # stream start
    event = get()
    if type(event) is yaml.StreamEndEvent:
        return None
    # an anchor: (value, mark, size, key text or None when a collection, scalar tag)
    anchors: dict[str, tuple[Any, Mark, int, str | None, str | None]] = {}
    open_anchors: set[str] = set()
    aliased = 0
    # frames: [kind, object, marks, size, anchor, pending key, key mark, merged]
    top: list[Any] = [_TOP, None, None, 0, None, None, None, None]
    stack: list[list[Any]] = []
    event = get()
    while True:
        kind = type(event)
        key_text: str | None = None
        tag: str | None = None
        if kind is scalar_event:
            style = event.style
            start = event.start_mark
            anchor = event.anchor
            if anchor is not None and (anchor in anchors or anchor in open_anchors):
                raise _Unusual  # a duplicate anchor: the composer's error
            key_text = event.value
            if not style and event.tag is None and event.implicit[0]:
                value = plain.get(key_text, plain)
                if value is plain:
                    value = _plain(key_text)
                mark = new_mark(Mark, (start.line + 1, start.column + 1, None))
                tag = None if key_text != "<<" else _MERGE
            else:
                value, tag = _tagged(event)
                mark = Mark(start.line + 1, start.column + 1, style or None)
            size = 1
            if anchor is not None:
                anchors[anchor] = (value, mark, 1, key_text, tag)
        elif kind is alias_event:
            found = anchors.get(event.anchor)
            if found is None:
                raise _Unusual  # undefined, or an alias inside its own anchor
            value, mark, size, key_text, tag = found
            if key_text is None:
                aliased += size
                if aliased > MAX_ALIAS_NODES:
                    raise _Unusual
            else:
                size = 1
        elif kind is mapping_start or kind is sequence_start:
            if top[0] == _MAP and top[5] is None:
                raise _Unusual  # a collection as a mapping key
            if len(stack) >= MAX_NESTING:
                raise _Unusual  # nests too deeply
            anchor = event.anchor
            if anchor is not None:
                if anchor in anchors or anchor in open_anchors:
                    raise _Unusual
                open_anchors.add(anchor)
            start = event.start_mark
            mark = new_mark(Mark, (start.line + 1, start.column + 1, None))
            stack.append(top)
            if kind is mapping_start:
                made = LMap()
                made.mark = mark
                made.key_marks = {}
                made.value_marks = {}
                top = [_MAP, made, None, 1, anchor, None, None, None]
            else:
                items = LList()
                items.mark = mark
                items.item_marks = []
                top = [_SEQ, items, items.item_marks, 1, anchor, None, None, None]
            event = get()
            continue
        elif kind is mapping_end or kind is sequence_end:
            value, size, anchor = top[1], top[3], top[4]
            mark = value.mark
            if kind is mapping_end and top[7]:
                for source in top[7]:
                    for key, item in source.items():
                        if key not in value:
                            value[key] = item
                            value.key_marks[key] = source.key_marks[key]
                            value.value_marks[key] = source.value_marks[key]
            if anchor is not None:
                open_anchors.discard(anchor)
                anchors[anchor] = (value, mark, size, None, None)
            top = stack.pop()
        else:  # document end
            if top[0] != _TOP or type(get()) is not yaml.StreamEndEvent:
                raise _Unusual  # another document follows
            return top[1]
        # a value is complete: give it to the open collection
        frame_kind = top[0]
        if frame_kind == _SEQ:
            top[1].append(value)
            top[2].append(mark)
            top[3] += size
        elif frame_kind == _MAP:
            pending = top[5]
            if pending is None:
                if key_text is None:
                    raise _Unusual  # an alias of a collection as a key
                if tag == _MERGE:
                    top[5] = _MERGE_KEY
                else:
                    if key_text in top[1]:
                        raise _Unusual  # a duplicate key
                    top[5] = key_text
                    top[6] = mark
            else:
                top[5] = None
                top[3] += size
                if pending is _MERGE_KEY:
                    if top[7] is None:
                        top[7] = []
                    top[7].extend(
                        v
                        for v in (value if isinstance(value, list) else [value])
                        if isinstance(v, LMap)
                    )
                else:
                    made = top[1]
                    made[pending] = value
                    made.key_marks[pending] = top[6]
                    made.value_marks[pending] = mark
        else:
            top[1] = value
        event = get()


def loads(text: str, file: str = "<string>") -> Any:
    """Parse one YAML document from `text`; `file` names it in errors."""
    if _Loader is not yaml.SafeLoader:
        try:
            return _fast(text)
        except Exception:  # an error, or a shape left to the composing reader
            pass  # which builds the same document, or raises the error it names
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
