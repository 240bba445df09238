"""The README's quick start as commands: its `sh` blocks, and the shell lines they hold.

Standard library only, so that `tests/debian/quickstart.sh` can run it on the host as a
script (`python3 tests/helpers/readme.py README.md [HEADING]`) to print the quick start it
runs verbatim inside a fresh Debian 12 root.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

QUICK_START = "## Two commands on a fresh machine"
"""The README heading whose `sh` blocks are the quick start, run in order in one shell."""

FENCE = re.compile(r"^```(\S*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def section(markdown: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = markdown.index(f"\n{heading}\n") + len(heading) + 2
    ends = [
        match.start()
        for match in re.finditer(r"^(#+) ", markdown[start:], re.MULTILINE)
        if len(match.group(1)) <= len(level)
    ]
    return markdown[start : start + ends[0]] if ends else markdown[start:]


def sh_blocks(markdown: str) -> list[str]:
    """The bodies of the ```sh blocks, in order."""
    return [match.group(2) for match in FENCE.finditer(markdown) if match.group(1) == "sh"]


def quick_start(readme: str) -> list[str]:
    """The quick start's `sh` blocks, in the order the reader runs them."""
    return sh_blocks(section(readme, QUICK_START))


def commands(block: str) -> list[str]:
    """Simple commands of a block, split at `&&`, `||`, `;` and `|`, comments dropped.

    Heredoc bodies and backslash continuations are handled; it is enough for the
    documentation's blocks, not a shell parser.
    """
    out: list[str] = []
    lines = iter(block.replace("\\\n", " ").splitlines())
    for line in lines:
        heredoc = re.search(r"<<-?\s*'?(\w+)'?", line)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in lexer:
            if token and set(token) <= set(";&|"):
                if words:
                    out.append(" ".join(words))
                words = []
            else:
                words.append(token)
        if words:
            out.append(" ".join(words))
        if heredoc:
            for body in lines:
                if body.strip() == heredoc.group(1):
                    break
    return out


def heredoc(block: str, target: str) -> list[str] | None:
    """The lines a `cat > TARGET <<'END'` (or `tee TARGET`) heredoc of the block writes."""
    found = re.search(
        rf"(?:cat >|tee) {re.escape(target)}\b[^\n]*<<-?\s*'?(\w+)'?[^\n]*\n(.*?)^\1$",
        block,
        re.MULTILINE | re.DOTALL,
    )
    return found.group(2).splitlines() if found else None


def main(argv: list[str]) -> int:
    """Print the `sh` blocks of a README section (argv[2], default the quick start)."""
    readme = Path(argv[1] if len(argv) > 1 else "README.md").read_text(encoding="utf-8")
    heading = argv[2] if len(argv) > 2 else QUICK_START
    sys.stdout.write("".join(sh_blocks(section(readme, heading))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
