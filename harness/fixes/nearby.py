"""Names one edit away: the candidates a typo fix may choose from (it chooses only when
there is exactly one)."""

from __future__ import annotations

from collections.abc import Iterable


def one_edit(a: str, b: str) -> bool:
    """True when `b` is `a` with one character inserted, deleted, replaced, or two adjacent
    characters swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (len(diff) == 2 and diff[1] == diff[0] + 1
                and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    index = next((i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y),
                 len(short))
    return short[index:] == long[index + 1:]


def only_candidate(word: str, known: Iterable[str], *, fold_case: bool = False) -> str:
    """The one name of `known` one edit away from `word`; ValueError saying why otherwise."""
    def norm(text: str) -> str:
        return text.lower() if fold_case else text
    found = sorted({k for k in known if one_edit(norm(word), norm(k))})
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValueError(f"nothing known is one edit away from `{word}`")
    raise ValueError(f"`{word}` is one edit away from {len(found)} names "
                     f"({', '.join(f'`{f}`' for f in found)}); choose by hand")
