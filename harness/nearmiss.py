"""Near misses: the existing name a mistyped name was meant to be.

Fixes may rewrite a name only when exactly one candidate is one edit (insert, delete or
substitute one character) away (`one_edit_away`, `single_near_miss`). Messages name the
single near miss (`did_you_mean`), or, for a runner label, the most similar candidate
(`closest`: a label may differ by a whole word, `macos-14-arm` for `macos-14`).
"""

from __future__ import annotations

from collections.abc import Iterable

CLOSE_ENOUGH = 75.0
"""The least similarity (0-100, `fuzz.ratio`) at which `closest` names a candidate."""


def one_edit_away(name: str, candidates: Iterable[str]) -> list[str]:
    """The candidates exactly one edit from `name`, sorted, without duplicates (rapidfuzz is
    imported on the first call: most runs never need a near miss)."""
    from rapidfuzz.distance import Levenshtein

    return sorted(
        {c for c in candidates if c != name and Levenshtein.distance(name, c, score_cutoff=1) == 1}
    )


def single_near_miss(name: str, candidates: Iterable[str]) -> str | None:
    """The one candidate one edit from `name`; None when there are none or several."""
    found = one_edit_away(name, candidates)
    return found[0] if len(found) == 1 else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """` (did you mean `X`?)` for the single near miss, else an empty string."""
    found = single_near_miss(name, candidates)
    return f" (did you mean `{found}`?)" if found else ""


def closest(name: str, candidates: Iterable[str], cutoff: float = CLOSE_ENOUGH) -> str | None:
    """The candidate most similar to `name` (ties: the first in sorted order), if it is at
    least `cutoff` similar; None otherwise, and for `name` itself."""
    from rapidfuzz import fuzz, process

    choices = sorted({c for c in candidates if c != name})
    found = process.extractOne(name, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
    return None if found is None else str(found[0])
