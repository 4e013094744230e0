"""One-line errors for unknown names (presets, config fields, tasks, data sets) that suggest the closest known ones."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = ["closest_names", "unknown_name"]

CUTOFF = 0.6  # difflib's default similarity below which a known name is not suggested
TIE = 0.05  # names this close to the best match's similarity are suggested beside it
MOST = 3  # suggestions at most


def closest_names(name: str, known: Iterable[str]) -> list[str]:
    """The known names closest to `name` (case ignored), best first: the best match and any nearly as close.

    Args:
        name: the name that was not found.
        known: the names that exist.

    Returns:
        Up to three known names; empty when none is similar enough (difflib ratio below 0.6).

    Example:
        >>> closest_names("tutorial-bilstn", ["tutorial-bilstm", "tutorial-lstm", "text-lstm"])
        ['tutorial-bilstm']
    """
    by_lower: dict[str, str] = {}
    for candidate in sorted(known):
        by_lower.setdefault(candidate.lower(), candidate)
    target = name.lower()
    scored = sorted((-difflib.SequenceMatcher(None, target, c).ratio(), c) for c in by_lower)  # best, then a-z
    close = [(-score, c) for score, c in scored if -score >= CUTOFF]
    if not close:
        return []
    best = close[0][0]
    return [by_lower[c] for score, c in close[:MOST] if score >= best - TIE]


def _suggest(name: str, known: Sequence[str]) -> str:
    close = closest_names(name, known)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


def unknown_name(expected: str, received: str | Sequence[str], known: Iterable[str], *, quote: bool = True) -> str:
    """The one-line error message for names not among `known`, each with the closest known names.

    Args:
        expected: what was expected, e.g. "a preset" or "options of qa-lstm".
        received: the unknown name, or several.
        known: the names that exist (listed sorted in the message).
        quote: write the received names as `repr` ('name') rather than bare (name).

    Returns:
        `Expected {expected} in [known...]. Received: {name} (did you mean {close}?)`, the suggestion only where a
        known name is close.

    Example:
        >>> unknown_name("a preset", "qa-lstn", ["qa-lstm", "text-lstm"])
        "Expected a preset in ['qa-lstm', 'text-lstm']. Received: 'qa-lstn' (did you mean 'qa-lstm'?)"
    """
    names = sorted(known)
    unknown = [received] if isinstance(received, str) else list(received)
    shown = ", ".join(f"{n!r}{_suggest(n, names)}" if quote else f"{n}{_suggest(n, names)}" for n in unknown)
    return f"Expected {expected} in {names}. Received: {shown}"
