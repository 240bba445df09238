"""Shell-aware reading of `run:` scripts: which commands a script really runs.

A command is a command word, not a substring: `echo "nix build"` runs no Nix. Scripts are
parsed with tree-sitter's bash grammar, so strings, comments, heredocs, line continuations,
pipelines, `&&` lists and `$(...)` substitutions are read as bash reads them. Wrappers are
unwrapped so the wrapped command is seen too: `sudo`, `env X=1`, `time`, `nice`, `timeout`,
`nix develop --command X`, `nix shell ... -c X`, `nix-shell --run "X"`, `bash -c "X"`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # loaded with the grammar, by the process that parses scripts
    from tree_sitter import Node, Parser, Query

_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
_MAX_DEPTH = 6


class Command(NamedTuple):
    """One simple command: its words (quotes removed where literal) and 1-based line.

    A named tuple: a `check` of a large repository makes thousands, most of them from rows
    another process parsed (`adopt`), and a tuple is made in a fraction of the time of an
    object with attributes."""

    words: tuple[str, ...]
    line: int
    wrapped_by: tuple[str, ...] = ()
    piped_to: str | None = None
    """The command word of the next command in a pipeline (`curl ... | sh` -> "sh")."""
    stdin: str | None = None
    """A heredoc fed to the command (`bash <<EOF ... EOF`), read as a script by shells."""
    stdin_line: int = 0

    @property
    def name(self) -> str:
        """The command word without its directory (`/usr/bin/nix` -> `nix`)."""
        words = self.words
        return words[0].rsplit("/", 1)[-1] if words else ""

    @property
    def args(self) -> tuple[str, ...]:
        """The words after the command word."""
        return self.words[1:]

    def text(self) -> str:
        """The command as one line, for messages."""
        return " ".join(self.words)


_new = tuple.__new__


def _command(  # noqa: PLR0917 - the fields of Command, in order
    words: tuple[str, ...],
    line: int,
    wrapped_by: tuple[str, ...],
    piped_to: str | None,
    stdin: str | None,
    stdin_line: int,
) -> Command:
    """`Command(...)` with every field given (the shell reader makes thousands)."""
    return _new(Command, (words, line, wrapped_by, piped_to, stdin, stdin_line))


@lru_cache(maxsize=1)
def _parser() -> Parser:
    import tree_sitter_bash  # the grammar: a process that parses no script never loads it
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def _mask_expressions(script: str) -> str:
    """Replace `${{ ... }}` with a same-line placeholder so bash parsing is not confused."""
    return _EXPRESSION.sub(lambda m: "__GHA_EXPR__" + "\n" * m.group(0).count("\n"), script)


def _word_text(node: Node, kind: str | None = None) -> str:
    """The text of a word (`kind`: its node type, when already read)."""
    if kind is None:
        kind = node.type
    if kind == "word":
        raw = node.text
        return raw.decode("utf-8", "replace") if raw else ""
    if kind == "string":
        return "".join(_word_text(child) for child in node.children if child.type != '"')
    if kind == "concatenation":
        return "".join(_word_text(child) for child in node.children)
    raw = node.text
    text = raw.decode("utf-8", "replace") if raw else ""
    if kind == "raw_string":
        return text[1:-1]
    if kind == "ansi_c_string":
        return text[2:-1]
    return text


_NOT_WORDS = frozenset({"file_redirect", "herestring_redirect", "comment"})


def _simple_command(node: Node) -> list[str]:
    words: list[str] = []
    for child in node.children:
        kind = child.type
        if kind == "command_name":
            inner = child.children[0] if child.child_count else child
            words.append(_word_text(inner))
        elif words and kind not in _NOT_WORDS:
            words.append(_word_text(child, kind))
    return words


def _command_of(node: Node) -> Node | None:
    while node.type == "redirected_statement" and node.children:
        node = node.children[0]
    return node if node.type == "command" else None


def _heredoc(statement: Node) -> tuple[int, Node] | None:
    """(start byte of the command, heredoc body) of a `cmd <<EOF ... EOF` statement."""
    command = _command_of(statement)
    if command is None:
        return None
    for redirect in statement.children:
        if redirect.type == "heredoc_redirect":
            for child in redirect.children:
                if child.type == "heredoc_body":
                    return command.start_byte, child
    return None


def ready() -> None:
    """Load the grammar and compile the query now: a process that is about to parse scripts
    does it before the first one arrives."""
    _query()


@lru_cache(maxsize=1)
def _query() -> Query:
    from tree_sitter import Query

    return Query(
        _parser().language,  # type: ignore[arg-type]
        "(command) @command (pipeline) @pipeline (redirected_statement) @redirected",
    )


_WORDS: dict[bytes, list[str]] = {}
_WORDS_MAX = 65_536


def _walk(node: Node, source: bytes, base_line: int, found: list[Command]) -> None:
    """Every simple command under `node` (parsed from `source`), in script order
    (tree-sitter finds the nodes). The words of a command are read once per command text:
    the same `nix build .#x` in many scripts is read once."""
    from tree_sitter import QueryCursor

    captures = QueryCursor(_query()).captures(node)
    words_of: dict[int, list[str]] = {}

    def words(command: Node) -> list[str]:
        start = command.start_byte
        got = words_of.get(start)
        if got is None:
            text = source[start : command.end_byte]
            got = _WORDS.get(text)
            if got is None:
                got = _simple_command(command)
                if len(_WORDS) < _WORDS_MAX:
                    _WORDS[text] = got
            words_of[start] = got
        return got

    piped: dict[int, str] = {}
    for pipeline in captures.get("pipeline", ()):
        members = [_command_of(c) for c in pipeline.named_children]
        for left, right in itertools.pairwise(members):
            if left is not None and right is not None and (right_words := words(right)):
                piped[left.start_byte] = right_words[0].rsplit("/", 1)[-1]
    heredocs: dict[int, Node] = {}
    for statement in captures.get("redirected", ()):
        if heredoc := _heredoc(statement):
            heredocs[heredoc[0]] = heredoc[1]
    for command in sorted(captures.get("command", ()), key=lambda n: n.start_byte):
        command_words = words(command)
        if command_words:
            body = heredocs.get(command.start_byte)
            found.append(
                _command(
                    tuple(command_words),
                    base_line + command.start_point[0],
                    (),
                    piped.get(command.start_byte),
                    body.text.decode("utf-8", "replace") if body and body.text else None,
                    base_line + body.start_point[0] if body else 0,
                )
            )


def _strip_options(words: list[str], with_value: frozenset[str]) -> list[str]:
    """Drop leading options (and the values of those that take one) from `words`."""
    index = 0
    while index < len(words) and words[index].startswith("-"):
        option = words[index]
        index += 1
        if option == "--":
            break
        if option in with_value and "=" not in option:
            index += 1
    return words[index:]


_SUDO_VALUE = frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "--user", "--group"})
_NICE_VALUE = frozenset({"-n", "--adjustment"})
_TIMEOUT_VALUE = frozenset({"-s", "-k", "--signal", "--kill-after"})
_XARGS_VALUE = frozenset(
    {
        "-n",
        "-I",
        "-P",
        "-L",
        "-d",
        "-a",
        "-s",
        "-E",
        "--max-args",
        "--max-procs",
        "--delimiter",
        "--arg-file",
    }
)
_SHELL_NAMES = frozenset({"bash", "sh", "zsh", "dash"})


_WRAPPERS = frozenset(
    {
        "sudo",
        "env",
        "command",
        "time",
        "nohup",
        "exec",
        "builtin",
        "stdbuf",
        "unbuffer",
        "nice",
        "xargs",
        "timeout",
        "nix",
        "nix-shell",
        *_SHELL_NAMES,
    }
)
"""Every command name `_unwrap` looks inside (any other command wraps nothing)."""


def _reads_stdin(words: tuple[str, ...]) -> bool:
    """True when `words` run a shell that reads its script from standard input."""
    if not words or words[0].rsplit("/", 1)[-1] not in _SHELL_NAMES:
        return False
    rest = iter(words[1:])
    for word in rest:
        if word in ("-s", "--"):
            return True
        if word in ("-o", "+o"):
            next(rest, None)
        elif word.startswith("-") and not word.startswith("--") and "c" in word[1:]:
            return False
        elif not word.startswith(("-", "+")):
            return False  # a script file
    return True


def _unwrap(words: list[str]) -> tuple[str, list[str] | str] | None:
    """If `words` is a wrapper, return (wrapper name, inner words or inner script)."""
    if not words:
        return None
    name = words[0].rsplit("/", 1)[-1]
    rest = words[1:]
    if name == "sudo":
        return name, _strip_options(rest, _SUDO_VALUE)
    if name == "env":
        inner = _strip_options(rest, frozenset({"-u", "--unset", "-C", "--chdir", "-S"}))
        while inner and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", inner[0]):
            inner = inner[1:]
        return name, inner
    if name == "command" and any(w in ("-v", "-V") for w in rest[:2]):
        return None  # `command -v nix` looks Nix up, it does not run it
    if name in ("time", "nohup", "exec", "command", "builtin", "stdbuf", "unbuffer"):
        return name, _strip_options(rest, frozenset({"-o", "-e", "-i", "-a"}))
    if name == "nice":
        return name, _strip_options(rest, _NICE_VALUE)
    if name == "xargs":
        return name, _strip_options(rest, _XARGS_VALUE)
    if name == "timeout":
        inner = _strip_options(rest, _TIMEOUT_VALUE)
        return name, inner[1:]
    if name in _SHELL_NAMES:
        for index, word in enumerate(rest):
            if word.startswith("-") and not word.startswith("--") and "c" in word[1:]:
                return name, rest[index + 1] if index + 1 < len(rest) else ""
            if not word.startswith("-") and word not in ("pipefail",):
                return None
        return None
    if name == "nix" and rest and rest[0] in ("develop", "shell", "run"):
        for index, word in enumerate(rest):
            if word in ("--command", "-c"):
                return f"nix {rest[0]}", rest[index + 1 :]
        return None
    if name == "nix-shell":
        for index, word in enumerate(rest):
            if word in ("--run", "--command") and index + 1 < len(rest):
                return name, rest[index + 1]
        return None
    return None


@lru_cache(maxsize=4096)
def _unwrapped(words: tuple[str, ...]) -> tuple[str, list[str] | str] | None:
    """`_unwrap` of these words, remembered (the same `sudo nix ...` recurs in scripts)."""
    return _unwrap(list(words))


def _expand(command: Command, depth: int) -> list[Command]:
    """The command and, when it wraps another, the wrapped commands too."""
    out = [command]
    if depth >= _MAX_DEPTH:
        return out
    name = command.name
    if command.stdin is not None and _reads_stdin(command.words):
        chain = (*command.wrapped_by, name)
        for nested in _nested(command.stdin, depth + 1):
            out.append(
                Command(
                    nested.words, command.stdin_line + nested.line, (*chain, *nested.wrapped_by)
                )
            )
        return out
    if name not in _WRAPPERS:  # most commands: nothing inside
        return out
    unwrapped = _unwrapped(command.words)
    if unwrapped is None:
        return out
    wrapper, inner = unwrapped
    chain = (*command.wrapped_by, wrapper)
    if isinstance(inner, str):
        for nested in _nested(inner, depth + 1):
            out.append(
                Command(nested.words, command.line + nested.line, (*chain, *nested.wrapped_by))
            )
    elif inner:
        out.extend(
            _expand(
                Command(
                    tuple(inner),
                    command.line,
                    chain,
                    stdin=command.stdin,
                    stdin_line=command.stdin_line,
                ),
                depth + 1,
            )
        )
    return out


def _parse(script: str, base_line: int, depth: int) -> list[Command]:
    masked = _mask_expressions(script)
    source = masked.encode("utf-8")
    tree = _parser().parse(source)
    simple: list[Command] = []
    _walk(tree.root_node, source, base_line, simple)
    result: list[Command] = []
    for command in simple:
        result.extend(_expand(command, depth))
    return result


@lru_cache(maxsize=4096)
def _nested(script: str, depth: int) -> tuple[Command, ...]:
    """Commands of a script that a wrapper runs (`bash -c`, `nix-shell --run`, a heredoc fed
    to a shell), lines counted from 0: the same inner script recurs, and is parsed once."""
    return tuple(_parse(script, 0, depth))


_PARSED: dict[str, tuple[int, tuple[Command, ...]]] = {}
"""Each script parsed: the line it was first read from, and its commands counted from it."""
_PARSED_MAX = 4096


AHEAD: list[Callable[[str], None]] = []
"""Where scripts parsed in another process come from (`harness.github.scripts_ahead`): called
with a script not parsed here yet, it returns once that script has arrived, or once no more
will come."""


def is_parsed(script: str) -> bool:
    """True when `script` (a script's text, or its template) is parsed in this process."""
    return script in _PARSED


def _parsed_at(script: str, first_line: int) -> tuple[Command, ...]:
    """The commands of a script with lines counted from `first_line`: each script is parsed
    once, at the first line it is read from; the same script at another line (a step
    repeated in several workflows) is that parse, moved."""
    seen = _PARSED.get(script)
    if seen is None and AHEAD:
        AHEAD[0](script)
        seen = _PARSED.get(script)
    if seen is None:
        found = tuple(_parse(script, first_line, 0))
        _remember(script, first_line, found)
        return found
    base, found = seen
    if base == first_line:
        return found
    shift = first_line - base
    # a heredoc body never starts on the script's first line: stdin_line 0 means none
    return tuple(
        _command(
            c.words,
            c.line + shift,
            c.wrapped_by,
            c.piped_to,
            c.stdin,
            c.stdin_line + shift if c.stdin_line else 0,
        )
        for c in found
    )


def _remember(script: str, first_line: int, found: tuple[Command, ...]) -> None:
    if len(_PARSED) >= _PARSED_MAX:
        del _PARSED[next(iter(_PARSED))]  # the oldest
    _PARSED[script] = (first_line, found)


Row = tuple[tuple[str, ...], int, tuple[str, ...], str | None, str | None, int]
"""A command as plain values, in the order of `Command`'s fields: cheap to send to another
process (a tenth of the unpickling time of the objects)."""
Parsed = dict[str, tuple[int, tuple[Row, ...]]]
"""Scripts parsed in one process for another: text -> (the line it was parsed at, its
commands as rows)."""


def parsed(scripts: Iterable[tuple[str, int]]) -> Parsed:
    """The scripts among these (each with the line its text starts on) that this process
    had not parsed yet, parsed now as `commands` and `substituted_commands` parse them,
    keyed by the text they parse (a script's template when it holds `${{ }}`). A process
    that parsed them ahead hands them to another with `adopt`."""
    found: Parsed = {}
    for script, first_line in scripts:
        template = _template(script) if "${{" in script else None
        text = script if template is None else template[0]
        if text in _PARSED or text in found:
            continue
        found[text] = (
            first_line,
            tuple(
                (c.words, c.line, c.wrapped_by, c.piped_to, c.stdin, c.stdin_line)
                for c in _parsed_at(text, first_line)
            ),
        )
    return found


def adopt(parsed: Parsed) -> None:
    """Keep scripts parsed ahead (by `parsed`, maybe in another process): `commands` and
    `substituted_commands` find them parsed."""
    for text, (first_line, rows) in parsed.items():
        if text not in _PARSED:
            _remember(text, first_line, tuple([_new(Command, row) for row in rows]))


@lru_cache(maxsize=4096)
def _commands(script: str, first_line: int) -> tuple[Command, ...]:
    return _parsed_at(script, first_line)


def commands(script: str, first_line: int = 1) -> list[Command]:
    """Every command `script` runs, wrapped ones included, with line numbers from `first_line`.

    Scripts are parsed once per process: every rule that reads a step shares the result. A
    `${{ }}` stays in the words as written (it is not known what it will be).
    """
    template = _template(script) if "${{" in script else None
    if template is None:
        return list(_commands(script, first_line))
    return list(_filled(template[0], first_line, tuple("${{" + e + "}}" for e in template[1])))


@lru_cache(maxsize=4096)
def _filled(template: str, first_line: int, values: tuple[str, ...]) -> tuple[Command, ...]:
    """The commands of a slotted script with each slot replaced by its value (remembered:
    matrix variants that give a script the same values share one answer)."""

    def fill(text: str) -> str:
        return _SLOT.sub(lambda m: values[int(m.group(1))], text)

    out = []
    for parsed in _commands(template, first_line):
        if (
            "__GHA_SLOT_" in "\0".join(parsed.words)
            or (parsed.piped_to and "__GHA_SLOT_" in parsed.piped_to)
            or (parsed.stdin and "__GHA_SLOT_" in parsed.stdin)
        ):
            parsed = _command(  # noqa: PLW2901 - the filled copy replaces it
                tuple(fill(w) for w in parsed.words),
                parsed.line,
                parsed.wrapped_by,
                fill(parsed.piped_to) if parsed.piped_to else None,
                fill(parsed.stdin) if parsed.stdin else parsed.stdin,
                parsed.stdin_line,
            )
        out.append(parsed)
    return tuple(out)


_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.,:/@%+-]+")
_RESERVED = frozenset(
    {
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "case",
        "esac",
        "for",
        "select",
        "while",
        "until",
        "do",
        "done",
        "in",
        "function",
        "time",
        "coproc",
    }
)
_SLOT = re.compile(r"__GHA_SLOT_(\d+)__")


@lru_cache(maxsize=4096)
def _template(script: str) -> tuple[str, tuple[str, ...]] | None:
    """The script with each one-line `${{ }}` replaced by a numbered slot, and the expressions
    in slot order; None when an expression spans lines (remembered per script)."""
    # what _EXPRESSION finds: each `${{` up to the first `}}` after it
    found: list[str] = []
    pieces: list[str] = []
    position = 0
    while (start := script.find("${{", position)) >= 0:
        end = script.find("}}", start + 3)
        if end < 0:
            break
        expression = script[start : end + 2]
        if "\n" in expression:
            return None
        pieces += [script[position:start], f"__GHA_SLOT_{len(found)}__"]
        found.append(expression)
        position = end + 2
    pieces.append(script[position:])
    return "".join(pieces), tuple(expression[3:-2] for expression in found)


def substituted_commands(
    script: str, first_line: int, value_of: Callable[[str], str | None]
) -> list[Command]:
    """Commands of `script` once GitHub has substituted its `${{ }}` (`value_of` gives an
    expression's text, None when it is not known: such an expression stays as written).

    When every value is a plain word (no blanks, quotes, shell syntax or reserved words) the
    values go into the words of the script parsed once with numbered slots, which is what bash
    reads after the substitution; otherwise the substituted text itself is parsed.
    """
    template = _template(script) if "${{" in script else None
    if template is None:
        return commands(script, first_line)
    values = [value_of(expression) for expression in template[1]]
    if all(v is not None and _SAFE_VALUE.fullmatch(v) and v not in _RESERVED for v in values):
        return list(_filled(template[0], first_line, tuple(str(v) for v in values)))

    def text_of(match: re.Match[str]) -> str:
        value = value_of(match.group(0)[3:-2])
        return match.group(0) if value is None else value

    return commands(_EXPRESSION.sub(text_of, script), first_line)
