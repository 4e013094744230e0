"""Comparisons: several models over seeds or splits, on a task or the user's data, beside classical baselines and
over grids of settings; the report and plots read only the CSV and JSON files a comparison writes.
"""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .request import CompareRequest, compare, runs_of, write_report
    from .spec import KINDS, SMOOTH, SWEEP_SEEDS, CompareSpec
    from .sweep import SweepSpec, parse_model
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = [
    "KINDS",
    "SMOOTH",
    "SWEEP_SEEDS",
    "CompareRequest",
    "CompareSpec",
    "SweepSpec",
    "compare",
    "parse_model",
    "runs_of",
    "write_report",
]
