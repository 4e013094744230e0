"""The statistics of comparisons, one definition each: the half-width of a mean's 95 % confidence interval
(Student t), Welch's test with Cohen's d between two models' seeds, and the paired t-test over shared splits.

SciPy is imported on the first call, not with the module: its statistics cost about 0.8 s of start-up, which
`lstmlab compare` would pay before training its first model (`benchmarks/startup.py`).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

__all__ = ["mean_ci", "paired", "t_half_width", "welch"]


def _stats() -> Any:
    from scipy import stats  # type: ignore[import-untyped]

    return stats


def t_half_width(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """The half-width of the 95 % confidence interval of the mean along `axis` (Student t, n - 1 degrees of
    freedom); 0 with fewer than two values.

    Shapes:
        values: (N, ...) with N along `axis`; returns the other dimensions (a float for a 1-D array).
    """
    count = values.shape[axis]
    if count < 2:
        return np.zeros_like(values.mean(axis=axis))
    half: np.ndarray = _stats().t.ppf(0.975, count - 1) * values.std(axis=axis, ddof=1) / math.sqrt(count)
    return half


def mean_ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of its 95 % confidence interval (Student t)."""
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return (float(values.mean()) if len(values) else math.nan), math.nan
    return float(values.mean()), float(t_half_width(values))


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Welch's t-test p-value and Cohen's d (pooled standard deviation) for a - b."""
    with warnings.catch_warnings():  # nearly equal samples (a run stuck at one answer): scipy warns, p stays right
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        p = float(_stats().ttest_ind(a, b, equal_var=False).pvalue)
    pooled = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    return p, (float(a.mean() - b.mean()) / pooled) if pooled > 0 else math.inf


def paired(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p-value of the paired t-test over the same splits (1 where the differences are all equal)."""
    differences = a - b
    if np.allclose(differences, differences[0]):
        return 1.0 if np.allclose(differences, 0) else 0.0
    return float(_stats().ttest_rel(a, b).pvalue)
