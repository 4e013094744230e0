"""Labelled text sets shipped inside the package, reachable as data paths such as `uci:yelp` wherever a text data
path is accepted; their files and licence notes are in the sub-folders beside this module."""

from __future__ import annotations

from pathlib import Path

from ...names import unknown_name

__all__ = ["BUNDLED_PREFIXES", "BUNDLED_TEXTS", "bundled_path", "is_bundled"]

# data path -> file beside this module, in the "tab-lines" format (`sentence<TAB>label`)
BUNDLED_TEXTS = {
    "uci:amazon": "uci/amazon_cells_labelled.txt",
    "uci:imdb": "uci/imdb_labelled.txt",
    "uci:yelp": "uci/yelp_labelled.txt",
}
BUNDLED_PREFIXES = ("uci:",)


def is_bundled(path: str) -> bool:
    """Whether `path` names a bundled text set (`uci:NAME`, any case), known or not, rather than a file."""
    return path.lower().startswith(BUNDLED_PREFIXES)


def bundled_path(name: str) -> Path:
    """The file of the bundled text set `name` (case ignored).

    Args:
        name: a data path such as "uci:yelp".

    Returns:
        The path of the installed file.

    Raises:
        ValueError: `name` is not a bundled set; the message lists the known ones and the closest.

    Example:
        >>> bundled_path("uci:yelp").name
        'yelp_labelled.txt'
    """
    file = BUNDLED_TEXTS.get(name.lower())
    if file is None:
        raise ValueError(unknown_name("a bundled text set", name, BUNDLED_TEXTS))
    return Path(__file__).parent / file
