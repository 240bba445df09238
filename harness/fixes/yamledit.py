"""Targeted edits of YAML text: find a node, replace exactly its characters, insert lines.

The file is composed with libyaml (through PyYAML, the reader the checks use), whose nodes
carry the character offsets of their start and end in the original text (CRLF and all).
An edit replaces one node's own characters, or inserts whole lines, and leaves every
other character of the file as it was: comments, key order, flow or block style, quoting,
anchors, indentation, line endings and the presence or absence of a final newline.
Nothing is ever re-dumped. Every edited text is parsed again before it is offered
(`reparse`), and then the suites judge it (`harness.fixes.verify`).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from harness.fixes.model import Edit, NoFix
from harness.yamlnodes import YamlError, loads

try:
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

_PLAIN = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./@+-]*$")
_MERGE = "<<"
_RESERVED_PLAIN = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


class Document:
    """One YAML file's text and its composed node tree (first and only document)."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.newline = "\r\n" if "\r\n" in text else "\n"
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            raise NoFix(
                f"{file} cannot be read as one YAML document: {str(exc).splitlines()[0]}"
            ) from None
        if not isinstance(root, MappingNode):
            raise NoFix(f"{file} is not a YAML mapping")
        self.root: MappingNode = root

    @staticmethod
    @lru_cache(maxsize=64)
    def of(file: str, text: str) -> Document:
        """The document of `text`, composed once per distinct text."""
        return Document(file, text)

    # -- finding nodes ---------------------------------------------------------------------

    def entry(self, mapping: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
        """The (key node, value node) of `key` in `mapping`, following `<<` merges."""
        if not isinstance(mapping, MappingNode):
            return None
        merged: list[Node] = []
        for key_node, value_node in mapping.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return key_node, value_node
            if isinstance(key_node, ScalarNode) and key_node.value == _MERGE:
                merged.extend(
                    value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                )
        for source in merged:
            found = self.entry(source, key)
            if found is not None:
                return found
        return None

    def get(self, mapping: Node | None, key: str) -> Node | None:
        """The value node of `key` in `mapping` (merges followed), or None."""
        found = self.entry(mapping, key)
        return None if found is None else found[1]

    def path(self, *keys: str) -> Node | None:
        """The node at a path of mapping keys from the document root."""
        node: Node | None = self.root
        for key in keys:
            node = self.get(node, key)
        return node

    def keys_at_line(self, key: str, line: int) -> list[tuple[MappingNode, ScalarNode, Node]]:
        """Every (mapping, key node, value node) whose key `key` sits on 1-based `line`."""
        found = []
        for node in _walk(self.root):
            if not isinstance(node, MappingNode):
                continue
            for key_node, value_node in node.value:
                if (
                    isinstance(key_node, ScalarNode)
                    and key_node.value == key
                    and key_node.start_mark.line + 1 == line
                ):
                    found.append((node, key_node, value_node))
        return found

    @staticmethod
    def is_alias(key_node: Node, value_node: Node) -> bool:
        """True when the value is an alias (`*name`): its node was written before the key."""
        return bool(value_node.start_mark.index < key_node.end_mark.index)

    # -- spans -----------------------------------------------------------------------------

    def own_start(self, node: Node) -> int:
        """Where the node's content starts, after its anchor (`&a`) and tag (`!t`)."""
        index = int(node.start_mark.index)
        text = self.text
        while index < len(text) and text[index] in "&!":
            while index < len(text) and text[index] not in " \t\r\n":
                index += 1
            while index < len(text) and text[index] in " \t":
                index += 1
        return index

    def own_end(self, node: Node) -> int:
        """Where the node's content ends: block collections end with their last item, not
        with the comments and blank lines that follow them."""
        if isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
            last = node.value[-1]
            return self.own_end(last[1] if isinstance(last, tuple) else last)
        end = int(node.end_mark.index)
        if isinstance(node, ScalarNode) and node.style in ("|", ">"):
            return self._block_scalar_end(node, end)
        return end

    def _block_scalar_end(self, node: ScalarNode, end: int) -> int:
        """A block scalar's own text ends at its last non-blank line."""
        body = self.text[node.start_mark.index : end]
        stripped = body.rstrip(" \t\r\n")
        return int(node.start_mark.index) + len(stripped)

    def line_start(self, index: int) -> int:
        """The offset of the start of the line holding offset `index`."""
        return self.text.rfind("\n", 0, index) + 1

    def line_text(self, index: int) -> str:
        """The whole line holding offset `index`, without its line break."""
        start = self.line_start(index)
        end = self.text.find("\n", index)
        return self.text[start : len(self.text) if end < 0 else end].rstrip("\r")

    def above_comments(self, index: int, indent: str) -> int:
        """The start of the line holding `index`, moved up over the comment lines right
        above it that sit at `indent` (they belong to what follows them)."""
        start = self.line_start(index)
        while start > 0:
            previous = self.line_start(start - 1)
            line = self.text[previous:start].rstrip("\r\n")
            if not (line.startswith(indent) and line[len(indent) :].startswith("#")):
                break
            start = previous
        return start

    # -- edits -----------------------------------------------------------------------------

    def replace_node(self, node: Node, new: str) -> Edit:
        """Replace a node's own text (anchor and tag kept) with `new`."""
        return Edit(self.file, self.own_start(node), self.own_end(node), new)

    def replace_scalar(self, node: ScalarNode, value: str) -> Edit:
        """Replace a scalar's value, keeping its quoting style when it has one."""
        if node.style in ("|", ">"):
            raise NoFix(f"{self.file}:{node.start_mark.line + 1}: the value is a block scalar")
        return self.replace_node(node, render_scalar(value, node.style))

    def replace_value(self, key_node: ScalarNode, value_node: Node, new: str) -> Edit:
        """Replace the value of a mapping entry with the flow text `new`.

        A block collection value starts on the next line: the new text goes right after
        the colon, and a comment between the colon and the old value is kept after it.
        """
        if not isinstance(value_node, MappingNode | SequenceNode) or value_node.flow_style:
            return self.replace_node(value_node, new)
        colon = self.text.index(":", key_node.end_mark.index) + 1
        start = self.own_start(value_node)
        first_line = self.text[colon:start].split("\n", 1)[0].rstrip("\r")
        comment = re.match(r"^([ \t]*)(#.*)$", first_line)
        tail = (comment.group(1) or " ") + comment.group(2) if comment else ""
        properties = self.text[value_node.start_mark.index : start].strip()
        if properties:  # an anchor or a tag stays on the key's line
            new = f"{properties} {new}"
        return Edit(self.file, colon, self.own_end(value_node), f" {new}{tail}")

    def insert_lines(self, before: int, lines: list[str]) -> Edit:
        """Insert whole lines before the line holding offset `before`, in the file's endings."""
        start = self.line_start(before)
        text = "".join(line + self.newline for line in lines)
        return Edit(self.file, start, start, text)

    def insert_after_line(self, index: int, lines: list[str]) -> Edit:
        """Insert whole lines after the line holding offset `index`."""
        end = self.text.find("\n", index)
        if end < 0:  # the last line has no line break: the new lines follow one
            text = "".join(self.newline + line for line in lines)
            return Edit(self.file, len(self.text), len(self.text), text)
        text = "".join(line + self.newline for line in lines)
        return Edit(self.file, end + 1, end + 1, text)


def _walk(node: Node) -> Iterator[Node]:
    """Every node once (aliases are the same node objects as their anchors)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                stack.extend((key_node, value_node))
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)


def render_scalar(value: str, style: str | None = None) -> str:
    """`value` as a YAML scalar: in the quote style given, plain when it reads the same,
    else single-quoted."""
    if style == '"':
        return json.dumps(value)
    if style == "'" or not plain_safe(value):
        return "'" + value.replace("'", "''") + "'"
    return value


def render_flow(value: Any) -> str:
    """A small value (labels, job ids, a step) as flow YAML: plain words where they read
    the same, JSON strings otherwise."""
    if isinstance(value, list):
        return "[" + ", ".join(render_flow(item) for item in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{render_flow(str(k))}: {render_flow(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return text if plain_safe(text) else json.dumps(text)


def plain_safe(text: str) -> bool:
    """True when `text` written plain reads back as the same string (not a number, a
    boolean, null, or anything with YAML syntax in it)."""
    if not _PLAIN.match(text) or text.lower() in _RESERVED_PLAIN:
        return False
    try:
        float(text.replace("_", ""))
    except ValueError:
        pass
    else:
        return False
    try:
        int(text.replace("_", ""), 0)
    except ValueError:
        return text.lower().lstrip("+-") not in (".inf", ".nan")
    return False


def scalar_values(node: Node) -> list[ScalarNode]:
    """The scalars of a scalar or of a sequence of scalars (nested sequences flattened)."""
    if isinstance(node, ScalarNode):
        return [node]
    if isinstance(node, SequenceNode):
        return [s for item in node.value for s in scalar_values(item)]
    return []


def apply_edits(text: str, edits: list[Edit]) -> str:
    """`text` with non-overlapping edits applied (any order given)."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for first, second in itertools.pairwise(ordered):
        if second.start < first.end:
            raise NoFix(f"{first.file}: two edits of one fix overlap")
    out = []
    position = 0
    for edit in ordered:
        out.append(text[position : edit.start])
        out.append(edit.new)
        position = edit.end
    out.append(text[position:])
    return "".join(out)


def reparse(file: str, text: str) -> None:
    """Raise NoFix unless `text` still reads as one YAML mapping, for the edit engine and
    for the reader of the checks."""
    Document.of(file, text)
    try:
        loads(text, file)
    except YamlError as exc:
        raise NoFix(f"the edited file does not parse: {exc}") from None
