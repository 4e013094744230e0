"""Tuning: `lstmlab tune`, a hyperparameter search on Optuna (the `tune` extra, imported when a search starts) whose
best settings are trained as an ordinary run.
"""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .search import TuneRequest, tune
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = ["TuneRequest", "tune"]
