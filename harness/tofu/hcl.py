"""OpenTofu/Terraform files read with python-hcl2 into blocks and attributes with line numbers.

Values keep the difference between literals and expressions: a quoted string is a `str`
(or a `Template` when it interpolates `${...}`), anything else that is not a literal is an
`Expr` holding its source text. A file hcl2 cannot parse is a `HclProblem` with the line
the parser names, never an exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

_OPTIONS = SerializationOptions(with_comments=False)


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


@dataclass(frozen=True)
class Attribute:
    """`name = value` with its line."""

    name: str
    value: Any
    line: int
    optional_defaults: dict[str, Any] | None = None
    """For a variable's `type = map(object({k = optional(t, DEFAULT)}))`: k -> DEFAULT."""
    key_lines: dict[tuple[str, ...], int] | None = None
    """For an object value: the line of each (nested) key, by key path."""


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


@dataclass(frozen=True)
class HclProblem:
    """A file that could not be read as HCL."""

    file: str
    line: int | None
    message: str


def _unquote_key(key: Any) -> str:
    text = str(key)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def convert(value: Any) -> Any:
    """hcl2's serialized value -> str / Template / Expr / number / bool / dict / list."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            inner = value[1:-1]
            if "${" in inner:
                return Template(inner)
            return inner.replace('\\"', '"').replace("\\\\", "\\")
        if value.startswith("${") and value.endswith("}"):
            return Expr(value[2:-1].strip())
        return value
    if isinstance(value, dict):
        return {_unquote_key(k): convert(v) for k, v in value.items()
                if not str(k).startswith("__")}
    if isinstance(value, list):
        return [convert(v) for v in value]
    return value


def _line(element: Any, default: int) -> int:
    meta = getattr(element, "_meta", None)
    line = getattr(meta, "line", None) if meta is not None and not meta.empty else None
    return int(line) if isinstance(line, int) else default


def _kids(element: Any) -> list[Any]:
    return [c for c in getattr(element, "children", None) or [] if c is not None]


def _first(element: Any, kind: str, depth: int = 0) -> Any:
    """Depth-first, the first element of type `kind` (bounded depth)."""
    if type(element).__name__ == kind:
        return element
    if depth > 12:
        return None
    for child in _kids(element):
        found = _first(child, kind, depth + 1)
        if found is not None:
            return found
    return None


def optional_defaults(expression: Any) -> dict[str, Any]:
    """Defaults of `optional(type, default)` attributes of the first object type inside."""
    obj = _first(expression, "ObjectRule")
    out: dict[str, Any] = {}
    for elem in _kids(obj) if obj is not None else []:
        if type(elem).__name__ != "ObjectElemRule":
            continue
        parts = _kids(elem)
        key = next((p for p in parts if type(p).__name__ == "ObjectElemKeyRule"), None)
        call = _first(parts[-1], "FunctionCallRule") if parts else None
        if key is None or call is None:
            continue
        name = next((c for c in _kids(call) if type(c).__name__ == "IdentifierRule"), None)
        arguments = next((c for c in _kids(call) if type(c).__name__ == "ArgumentsRule"), None)
        if name is None or name.serialize(_OPTIONS) != "optional" or arguments is None:
            continue
        values = [c for c in _kids(arguments) if type(c).__name__ != "COMMA_TOKEN"
                  and hasattr(c, "serialize") and "TOKEN" not in type(c).__name__]
        if len(values) >= 2:
            out[_unquote_key(key.serialize(_OPTIONS))] = convert(values[1].serialize(_OPTIONS))
    return out


def key_lines(expression: Any, prefix: tuple[str, ...] = (), depth: int = 0
              ) -> dict[tuple[str, ...], int]:
    """Lines of the keys of an object expression (nested objects too), by key path."""
    obj = _first(expression, "ObjectRule") if depth < 8 else None
    out: dict[tuple[str, ...], int] = {}
    for elem in _kids(obj) if obj is not None else []:
        if type(elem).__name__ != "ObjectElemRule":
            continue
        parts = _kids(elem)
        key = next((p for p in parts if type(p).__name__ == "ObjectElemKeyRule"), None)
        if key is None:
            continue
        path = (*prefix, _unquote_key(key.serialize(_OPTIONS)))
        out[path] = _line(elem, 0)
        value = parts[-1]
        if value is not key and type(value).__name__ != "ObjectRule" and \
                _first(value, "ObjectRule", 9) is not None:
            out.update(key_lines(value, path, depth + 1))
        elif type(value).__name__ == "ObjectRule":
            out.update(key_lines(value, path, depth + 1))
    return out


def _body(body: Any, file: str, parent_line: int
          ) -> tuple[dict[str, Attribute], list[Block]]:
    attributes: dict[str, Attribute] = {}
    blocks: list[Block] = []
    for child in getattr(body, "children", []):
        kind = type(child).__name__
        if kind == "AttributeRule":
            name = _unquote_key(child.identifier.serialize(_OPTIONS))
            line = _line(child, parent_line)
            try:
                value = convert(child.expression.serialize(_OPTIONS))
            except Exception:  # an expression hcl2 cannot serialize: keep it opaque
                value = Expr("<unreadable expression>")
            defaults = None
            if name == "type":
                try:
                    defaults = optional_defaults(child.expression) or None
                except Exception:  # a type hcl2 shapes differently: no defaults known
                    defaults = None
            lines = None
            if isinstance(value, dict):
                try:
                    lines = key_lines(child.expression) or None
                except Exception:  # lines are a nicety; the value is what matters
                    lines = None
            attributes[name] = Attribute(name, value, line, defaults, lines)
        elif kind == "BlockRule":
            blocks.append(_block(child, file, parent_line))
    return attributes, blocks


def _block(element: Any, file: str, parent_line: int) -> Block:
    labels = [_unquote_key(label.serialize(_OPTIONS)) for label in element.labels]
    line = _line(element, parent_line)
    attributes, blocks = _body(element.body, file, line)
    return Block(labels[0], tuple(labels[1:]), file, line, attributes, blocks)


def parse_text(text: str, file: str) -> HclFile:
    """Parse HCL text; raises on syntax errors (see `read_hcl` for the safe form)."""
    tree = hcl2.transform(hcl2.parses_to_tree(text))
    attributes, blocks = _body(tree.body, file, 1)
    return HclFile(file, blocks, attributes)


def _json_file(text: str, file: str) -> HclFile:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a .tfvars.json file must hold a JSON object")
    return HclFile(file, [], {k: Attribute(k, v, 1) for k, v in data.items()})


def read_hcl(path: Path, file: str) -> HclFile | HclProblem:
    """Read one .tf / .tfvars (or .json variant); a parse failure is a HclProblem."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return HclProblem(file, None, f"cannot read: {exc.strerror}")
    try:
        if file.endswith(".json"):
            return _json_file(text, file)
        return parse_text(text, file)
    except json.JSONDecodeError as exc:
        return HclProblem(file, exc.lineno, f"not JSON: {exc.msg}")
    except Exception as exc:  # lark and hcl2 raise many types; every one is bad input
        line = getattr(exc, "line", None)
        column = getattr(exc, "column", None)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        token = getattr(exc, "token", None)
        if isinstance(column, int) and column > 0:
            near = f" near {str(token).strip()[:30]!r}" if str(token or "").strip() else ""
            message = f"syntax error at column {column}{near}"
        return HclProblem(file, line if isinstance(line, int) and line > 0 else None,
                          f"cannot parse as HCL: {message[:160]}")
