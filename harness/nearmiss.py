"""Near misses: the one existing name a mistyped name is one edit away from.

Used by messages ("did you mean ...?") and by fixes, which may rewrite a name only when
exactly one candidate is one edit (insert, delete or substitute one character) away.
"""

from __future__ import annotations

from collections.abc import Iterable


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
