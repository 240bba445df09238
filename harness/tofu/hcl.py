"""OpenTofu/Terraform files read with tree-sitter-hcl into blocks and attributes with lines.

Values keep the difference between literals and expressions: a quoted string is a `str`
(or a `Template` when it interpolates `${...}`), anything else that is not a literal is an
`Expr` holding its source text. A file the grammar cannot parse is a `HclProblem` with the
line of the first syntax error, never an exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.safe_read import MAX_TF_BYTES, UnsafeFile, read_text

if TYPE_CHECKING:
    from tree_sitter import Node, Parser


@dataclass(frozen=True)
class Expr:
    """An HCL expression that is not a literal (`var.x`, `each.value.y`, a conditional...)."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Template:
    """A quoted string with `${...}` interpolations."""

    text: str

    def __str__(self) -> str:
        return f'"{self.text}"'


class Attribute:
    """`name = value` with its line.

    Read from a syntax tree, the value (with a variable type's optional defaults and an
    object's key lines) is converted on first use: most attributes are never looked at.
    """

    __slots__ = ("_defaults", "_lines", "_node", "_source", "_value", "line", "name")

    def __init__(
        self,
        name: str,
        value: Any,
        line: int,
        optional_defaults: dict[str, Any] | None = None,
        key_lines: dict[tuple[str, ...], int] | None = None,
    ) -> None:
        self.name = name
        self.line = line
        self._value = value
        self._defaults = optional_defaults
        self._lines = key_lines
        self._node: Node | None = None
        self._source: _Source | None = None

    @classmethod
    def of_node(cls, name: str, line: int, source: _Source, expression: Node) -> Attribute:
        """An attribute whose value is read from `expression` when first asked for."""
        attribute = cls(name, None, line)
        attribute._node, attribute._source = expression, source
        return attribute

    def _read(self) -> None:
        node, source = self._node, self._source
        if node is None or source is None:
            return
        try:
            value = source.value(node)
            defaults = (_optional_defaults(source, node) or None) if self.name == "type" else None
            lines = (_key_lines(source, node) or None) if isinstance(value, dict) else None
        except RecursionError:  # nested past Python's stack: keep it opaque
            value, defaults, lines = Expr("<unreadable expression>"), None, None
        self._value, self._defaults, self._lines = value, defaults, lines
        self._node = None

    @property
    def value(self) -> Any:
        """The value: str / Template / Expr / number / bool / None / dict / list."""
        self._read()
        return self._value

    @property
    def optional_defaults(self) -> dict[str, Any] | None:
        """For a variable's `type = map(object({k = optional(t, DEFAULT)}))`: k -> DEFAULT."""
        self._read()
        return self._defaults

    @property
    def key_lines(self) -> dict[tuple[str, ...], int] | None:
        """For an object value: the line of each (nested) key, by key path."""
        self._read()
        return self._lines

    def _fields(self) -> tuple[Any, ...]:
        return (self.name, self.value, self.line, self.optional_defaults, self.key_lines)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Attribute) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((self.name, self.line))

    def __repr__(self) -> str:
        return (
            f"Attribute(name={self.name!r}, value={self.value!r}, line={self.line}, "
            f"optional_defaults={self.optional_defaults!r}, key_lines={self.key_lines!r})"
        )


@dataclass
class Block:
    """A block (`module "x" { ... }`) with its attributes and nested blocks."""

    type: str
    labels: tuple[str, ...]
    file: str
    line: int
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of an attribute, or `default`."""
        attribute = self.attributes.get(name)
        return attribute.value if attribute is not None else default

    def line_of(self, name: str) -> int:
        """The line of an attribute, or of the block when it is absent."""
        attribute = self.attributes.get(name)
        return attribute.line if attribute is not None else self.line

    def children(self, kind: str) -> list[Block]:
        """Nested blocks of one type."""
        return [b for b in self.blocks if b.type == kind]


@dataclass
class HclFile:
    """One parsed file: top-level blocks and (for tfvars) top-level attributes."""

    path: str
    blocks: list[Block] = field(default_factory=list)
    attributes: dict[str, Attribute] = field(default_factory=dict)

    def read_values(self) -> HclFile:
        """Read every attribute's value now (the file no longer holds its syntax tree, so
        it can be pickled); returns the file."""
        todo: list[Block] = list(self.blocks)
        for attribute in self.attributes.values():
            attribute._read()
        while todo:
            block = todo.pop()
            for attribute in block.attributes.values():
                attribute._read()
            todo.extend(block.blocks)
        return self


@dataclass(frozen=True)
class HclProblem:
    """A file that could not be read as HCL."""

    file: str
    line: int | None
    message: str


class HclSyntaxError(ValueError):
    """The grammar found a syntax error at `line` (1-based) and `column`."""

    def __init__(self, line: int, column: int, near: str) -> None:
        super().__init__(f"syntax error at column {column}" + (f" near {near!r}" if near else ""))
        self.line = line
        self.column = column


_PARSER: list[Parser] = []
_ESCAPES = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))|\$\$\{|%%\{", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_WRAPPED = re.compile(r"\s*\n\s*")
_DEPTH = 12
"""How deep the searches for an object or a function call inside an expression go."""


def _parser() -> Parser:
    """The tree-sitter parser for HCL (imported and built on first use)."""
    if not _PARSER:
        import tree_sitter
        import tree_sitter_hcl

        _PARSER.append(tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language())))
    return _PARSER[0]


class _Source:
    """The bytes of one file and the node readers that need them."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def expr(self, node: Node) -> Expr:
        """An expression kept as its source text, on one line."""
        return Expr(_WRAPPED.sub(" ", self.text(node)).strip())

    def string(self, node: Node) -> str:
        """A `string_lit` label or literal -> its value (escapes decoded)."""
        return _unescape(
            "".join(self.text(c) for c in node.named_children if c.type == "template_literal")
        )

    def template(self, node: Node) -> str | Template:
        """A quoted or heredoc template: a `Template` when it interpolates, else a string."""
        if node.type == "heredoc_template":
            return self._heredoc(node)
        parts = [
            c
            for c in node.named_children
            if c.type not in ("quoted_template_start", "quoted_template_end")
        ]
        if not parts:
            return ""
        inner = self.data[parts[0].start_byte : parts[-1].end_byte].decode(
            "utf-8", errors="replace"
        )
        if any(c.type == "template_interpolation" for c in parts):
            return Template(inner)
        if all(c.type == "template_literal" for c in parts):
            return _unescape(inner)
        return inner

    def _heredoc(self, node: Node) -> str | Template:
        start = next((c for c in node.named_children if c.type == "heredoc_start"), None)
        idents = [c for c in node.named_children if c.type == "heredoc_identifier"]
        if start is None or len(idents) < 2:
            return self.text(node)
        opening = self.data.find(b"\n", idents[0].end_byte) + 1
        closing = self.data.rfind(b"\n", opening - 1, idents[-1].start_byte) + 1
        body = self.data[opening:closing].decode("utf-8", errors="replace")
        if self.text(start).startswith("<<-"):
            lines = body.splitlines(keepends=True)
            indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
            cut = min(indents, default=0)
            body = "".join(ln[cut:] if ln.strip() else ln.lstrip(" \t") for ln in lines)
        if any(c.type == "template_interpolation" for c in node.named_children):
            return Template(body)
        return body.replace("$${", "${").replace("%%{", "%{")

    def value(self, node: Node) -> Any:
        """An `expression` -> str / Template / Expr / number / bool / None / dict / list."""
        kids = _named(node)
        if len(kids) != 1:
            return self.expr(node)
        inner = kids[0]
        kind = inner.type
        if kind == "expression":
            return self.value(inner)
        if kind == "literal_value":
            return self._literal(inner)
        if kind == "variable_expr":  # a bare name (`type = string`) reads as the name
            return self.text(inner)
        if kind == "template_expr" and inner.named_children:
            return self.template(inner.named_children[0])
        if kind == "collection_value" and inner.named_children:
            collection = inner.named_children[0]
            if collection.type == "tuple":
                return [self.value(c) for c in _named(collection) if c.type == "expression"]
            if collection.type == "object":
                return {
                    self.key(elem): self.value(elem.child_by_field_name("val") or elem)
                    for elem in _named(collection)
                    if elem.type == "object_elem"
                }
        if kind == "operation":
            unary = inner.named_children[0] if inner.named_children else None
            if (
                unary is not None
                and unary.type == "unary_operation"
                and self.text(unary).startswith("-")
                and unary.named_children
                and unary.named_children[0].type == "literal_value"
            ):
                number = self._literal(unary.named_children[0])
                if isinstance(number, int | float) and not isinstance(number, bool):
                    return -number
        return self.expr(node)

    def key(self, elem: Node) -> str:
        """An object element's key: a bare name or a quoted string, else its source text."""
        key = elem.child_by_field_name("key")
        if key is None:
            return ""
        value = self.value(key)
        if isinstance(value, Expr):
            return value.text
        return str(value)

    def _literal(self, node: Node) -> Any:
        child = node.named_children[0] if node.named_children else node
        text = self.text(child)
        if child.type == "numeric_lit":
            try:
                return int(text)
            except ValueError:
                return float(text)
        if child.type == "bool_lit":
            return text == "true"
        if child.type == "null_lit":
            return None
        if child.type == "string_lit":
            return self.string(child)
        return Expr(text)


def _named(node: Node) -> list[Node]:
    return [c for c in node.named_children if c.type != "comment"]


def _unescape(text: str) -> str:
    """HCL string escapes (`\\n`, `\\"`, `\\u00e9`, `$${`, `%%{`) -> the characters."""
    if "\\" not in text and "$${" not in text and "%%{" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole in ("$${", "%%{"):
            return whole[1:]
        code = match.group(1) or match.group(2)
        if code:
            return chr(int(code, 16)) if int(code, 16) <= 0x10FFFF else whole
        return _SIMPLE_ESCAPES.get(match.group(3), whole)

    return _ESCAPES.sub(one, text)


def _first(node: Node, kind: str, depth: int = 0) -> Node | None:
    """Depth-first, the first node of type `kind` (bounded depth)."""
    if node.type == kind:
        return node
    if depth > _DEPTH:
        return None
    for child in node.named_children:
        found = _first(child, kind, depth + 1)
        if found is not None:
            return found
    return None


def _elements(expression: Node) -> list[tuple[Node, Node]]:
    """(key, value) expressions of the first object literal inside `expression`."""
    obj = _first(expression, "object")
    if obj is None:
        return []
    pairs = []
    for elem in obj.named_children:
        key, value = elem.child_by_field_name("key"), elem.child_by_field_name("val")
        if elem.type == "object_elem" and key is not None and value is not None:
            pairs.append((elem, value))
    return pairs


def _optional_defaults(source: _Source, expression: Node) -> dict[str, Any]:
    """Defaults of `optional(type, default)` attributes of the first object type inside."""
    out: dict[str, Any] = {}
    for elem, value in _elements(expression):
        call = _first(value, "function_call")
        if (
            call is None
            or not call.named_children
            or source.text(call.named_children[0]) != "optional"
        ):
            continue
        arguments = next((c for c in call.named_children if c.type == "function_arguments"), None)
        values = [c for c in _named(arguments) if c.type == "expression"] if arguments else []
        if len(values) >= 2:
            out[source.key(elem)] = source.value(values[1])
    return out


def _key_lines(
    source: _Source, expression: Node, prefix: tuple[str, ...] = (), depth: int = 0
) -> dict[tuple[str, ...], int]:
    """Lines of the keys of an object expression (nested objects too), by key path."""
    out: dict[tuple[str, ...], int] = {}
    if depth >= 8:
        return out
    for elem, value in _elements(expression):
        path = (*prefix, source.key(elem))
        out[path] = elem.start_point[0] + 1
        if _first(value, "object") is not None:
            out.update(_key_lines(source, value, path, depth + 1))
    return out


def _body(
    source: _Source, body: Node | None, file: str
) -> tuple[dict[str, Attribute], list[Block]]:
    attributes: dict[str, Attribute] = {}
    blocks: list[Block] = []
    for child in body.named_children if body is not None else []:
        if child.type == "attribute":
            parts = _named(child)
            if len(parts) >= 2:
                name = source.text(parts[0])
                attributes[name] = Attribute.of_node(
                    name, child.start_point[0] + 1, source, parts[-1]
                )
        elif child.type == "block":
            blocks.append(_block(source, child, file))
    return attributes, blocks


def _block(source: _Source, node: Node, file: str) -> Block:
    labels: list[str] = []
    body = None
    for child in node.named_children:
        if child.type == "identifier":
            labels.append(source.text(child))
        elif child.type == "string_lit":
            labels.append(source.string(child))
        elif child.type == "body":
            body = child
    attributes, blocks = _body(source, body, file)
    return Block(
        labels[0] if labels else "",
        tuple(labels[1:]),
        file,
        node.start_point[0] + 1,
        attributes,
        blocks,
    )


def _first_error(node: Node) -> Node | None:
    """The first ERROR or MISSING node in document order."""
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error or child.is_missing:
            found = _first_error(child)
            if found is not None:
                return found
    return None


def parse_text(text: str, file: str) -> HclFile:
    """Parse HCL text; raises HclSyntaxError (see `read_hcl` for the safe form)."""
    data = text.encode("utf-8", errors="replace")
    root = _parser().parse(data).root_node
    if root.has_error:
        error = _first_error(root) or root
        near = data[error.start_byte : error.end_byte].decode("utf-8", errors="replace")
        near = near.strip().splitlines()[0][:30] if near.strip() else ""
        if error.is_missing:
            near = f"missing {error.type}"
        raise HclSyntaxError(error.start_point[0] + 1, error.start_point[1] + 1, near)
    body = next((c for c in root.named_children if c.type == "body"), None)
    attributes, blocks = _body(_Source(data), body, file)
    return HclFile(file, blocks, attributes)


def _json_file(text: str, file: str) -> HclFile:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a .tfvars.json file must hold a JSON object")
    return HclFile(file, [], {k: Attribute(k, v, 1) for k, v in data.items()})


def read_hcl(path: Path, file: str, root: Path | None = None) -> HclFile | HclProblem:
    """Read one .tf / .tfvars (or .json variant); a parse failure is a HclProblem.

    Only a regular file of at most `MAX_TF_BYTES` inside `root` (when given) is read; a
    symlink to a device, a loop, a dangling link, a FIFO or a directory is a HclProblem
    saying why it was skipped.
    """
    try:
        text = read_text(path, MAX_TF_BYTES, root, errors="replace")
    except UnsafeFile as exc:
        return HclProblem(file, None, f"cannot read: {exc.reason}")
    try:
        if file.endswith(".json"):
            return _json_file(text, file)
        return parse_text(text, file)
    except json.JSONDecodeError as exc:
        return HclProblem(file, exc.lineno, f"not JSON: {exc.msg}")
    except HclSyntaxError as exc:
        return HclProblem(file, exc.line, f"cannot parse as HCL: {str(exc)[:160]}")
    except (ValueError, RecursionError, UnicodeError) as exc:  # any other unreadable shape
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return HclProblem(file, None, f"cannot parse as HCL: {message[:160]}")
