"""Classical baselines to set beside the models in comparisons on the user's data: a TF-IDF logistic regression for
texts; MiniRocket and a logistic regression on summary statistics for series.

Each takes the training split as lstmlab's data pipeline holds it before encoding (raw texts, or raw unscaled series
`(steps, channels)` of their own lengths, with their class names), chooses its one setting by cross-validation on
that split alone, and answers class indices in the order of `classes` (by default the sorted class names, as
`prepare_data` numbers them), so that its predictions line up with a model's. Fit time and per-example inference
time are measured for the comparison's report.

scikit-learn and aeon are an optional extra (`pip install -e ".[baselines]"`): importing this module needs neither;
fitting a baseline without them raises a one-line error naming the extra.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from ..data import check_series, tokenize
from ..names import unknown_name

__all__ = [
    "BASELINES",
    "INSTALL",
    "SUMMARY_QUANTILES",
    "SUMMARY_STATISTICS",
    "Baseline",
    "FittedBaseline",
    "baselines_for",
    "fit_baseline",
    "get_baseline",
    "summary_features",
]

INSTALL = 'pip install -e ".[baselines]"'
INNER_FOLDS = 5  # inner stratified folds that choose C (fewer where the smallest class has fewer examples)
LOGREG_CS = tuple(float(c) for c in np.logspace(-2, 3, 11))  # C from 0.01 to 1000 by half decades
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 10))  # MiniRocket's paper and aeon's classifier
MINIROCKET_KERNELS = 10_000  # features, the paper's default
MINIROCKET_SHORTEST = 9  # steps: one kernel's length; shorter series are padded up to it
SUMMARY_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
SUMMARY_STATISTICS = ("mean", "std", "min", "max", "first", "last", "slope", *(f"q{q:g}" for q in SUMMARY_QUANTILES))


def _require(modules: Sequence[str], name: str) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            package = {"sklearn": "scikit-learn"}.get(module, module)
            raise ValueError(
                f"Expected {package} for the baseline {name!r}. Received: not installed; {INSTALL}"
            ) from None


# ---- inputs


def _check_texts(inputs: Sequence[Any], name: str) -> list[str]:
    if isinstance(inputs, str | np.ndarray) or not isinstance(inputs, Sequence) or not inputs:
        raise ValueError(f"Expected a non-empty list of texts for {name!r}. Received: {type(inputs).__name__}")
    bad = next((i for i, text in enumerate(inputs) if not isinstance(text, str)), None)
    if bad is not None:
        raise ValueError(f"Expected texts (str) for {name!r}. Received: {type(inputs[bad]).__name__} at index {bad}")
    return list(inputs)


def _check_series_inputs(inputs: Sequence[Any], name: str, channels: int | None = None) -> list[np.ndarray]:
    if isinstance(inputs, str | np.ndarray) or not isinstance(inputs, Sequence) or not inputs:
        raise ValueError(
            f"Expected a non-empty list of series (steps, channels) for {name!r}. Received: {type(inputs).__name__}"
        )
    bad = next((i for i, s in enumerate(inputs) if not isinstance(s, np.ndarray) or s.dtype.kind not in "iuf"), None)
    if bad is not None:
        received = inputs[bad]
        kind = f"array of {received.dtype}" if isinstance(received, np.ndarray) else type(received).__name__
        raise ValueError(f"Expected series as arrays of numbers for {name!r}. Received: {kind} at index {bad}")
    values = [np.asarray(s, dtype=np.float64) for s in inputs]
    check_series(values, f"the series given to {name!r}", channels)
    return values


# ---- features


def summary_features(values: Sequence[np.ndarray]) -> np.ndarray:
    """Per-channel summary statistics of each series over its own steps.

    The statistics, in `SUMMARY_STATISTICS` order: mean, standard deviation (population), minimum, maximum, first
    and last values, least-squares slope per step, and the 10, 25, 50, 75 and 90 % quantiles (linear
    interpolation).

    Args:
        values: series, each `(steps, channels)`, all with the same channels.

    Shapes:
        Returns `(N, len(SUMMARY_STATISTICS) * D)`: statistic-major, so column `s * D + d` is statistic `s` of
        channel `d`.

    Returns:
        The features as float64.

    Example:
        >>> summary_features([np.array([[1.0], [3.0]])])[0, :7].tolist()  # mean, std, min, max, first, last, slope
        [2.0, 1.0, 1.0, 3.0, 1.0, 3.0, 2.0]
    """
    rows = []
    for series in values:
        steps = np.arange(len(series), dtype=np.float64)
        centred = steps - steps.mean()
        denominator = float(centred @ centred)
        slope = centred @ (series - series.mean(0)) / denominator if denominator > 0 else np.zeros(series.shape[1])
        stats = [series.mean(0), series.std(0), series.min(0), series.max(0), series[0], series[-1], slope]
        stats += list(np.quantile(series, SUMMARY_QUANTILES, axis=0))
        rows.append(np.concatenate(stats))
    return np.stack(rows)


def _padded(values: Sequence[np.ndarray], length: int) -> np.ndarray:
    """`(N, channels, length)` float32 for aeon: each series cut to `length` steps or padded at its end with its
    last value. MiniRocket's kernels sum to zero, so a constant run adds convolution outputs of 0 whatever its level:
    no step that zero padding would add at the series' end."""
    out = np.empty((len(values), values[0].shape[1], length), dtype=np.float32)
    for i, series in enumerate(values):
        kept = series[:length]
        out[i, :, : len(kept)] = kept.T
        out[i, :, len(kept) :] = kept[-1][:, None]
    return out


# ---- estimators: each fits on checked inputs and integer class ids


def _inner_folds(ids: np.ndarray, name: str, classes: Sequence[str]) -> int:
    counts = np.bincount(ids, minlength=len(classes))
    present = counts[counts > 0]
    if present.min() < 2:
        rare = classes[int(np.flatnonzero(counts == 1)[0])]
        raise ValueError(
            f"Expected at least two training examples of each class for {name!r} (its C is chosen by stratified "
            f"cross-validation). Received: one of {rare!r}"
        )
    return int(min(INNER_FOLDS, present.min()))


class _LogregSearch:
    """A step turning inputs into features (fitted within each inner fold), then a logistic regression whose C is
    chosen by a grid search on stratified folds shuffled by `seed`; `prepare` maps inputs first (no fitting)."""

    def __init__(self, features: Any, seed: int, folds: int, prepare: Callable[[list[Any]], Any] = list) -> None:
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
        from sklearn.model_selection import GridSearchCV, StratifiedKFold  # type: ignore[import-untyped]
        from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]

        self.prepare = prepare
        self.search = GridSearchCV(
            Pipeline([("features", features), ("logreg", LogisticRegression(max_iter=5000))]),
            {"logreg__C": list(LOGREG_CS)},
            cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
            scoring="accuracy",
            n_jobs=1,
        )

    def fit(self, inputs: list[Any], ids: np.ndarray) -> dict[str, float]:
        self.search.fit(self.prepare(inputs), ids)
        return {"C": float(self.search.best_params_["logreg__C"])}

    def predict(self, inputs: list[Any]) -> np.ndarray:
        return np.asarray(self.search.predict(self.prepare(inputs)))

    def predict_proba(self, inputs: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and the class ids of their columns."""
        return np.asarray(self.search.predict_proba(self.prepare(inputs))), np.asarray(self.search.classes_)


def _token_lists(texts: list[Any]) -> list[list[str]]:
    """lstmlab's own words and punctuation marks, lower-cased (what the models read), once per text: the grid
    search refits the vectorizer for every C and fold, and tokenising is most of a fit."""
    return [tokenize(text) for text in texts]


def _words_and_pairs(tokens: list[str]) -> list[str]:
    """The features of one tokenised text: its words, then its pairs of neighbouring words (what scikit-learn's
    `ngram_range=(1, 2)` makes of the same tokens)."""
    return [*tokens, *(f"{a} {b}" for a, b in pairwise(tokens))]


def _tfidf_logreg(seed: int, folds: int) -> _LogregSearch:
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    vectorizer = TfidfVectorizer(analyzer=_words_and_pairs, sublinear_tf=True, min_df=1)
    return _LogregSearch(vectorizer, seed, folds, prepare=_token_lists)


def _summary_logreg(seed: int, folds: int) -> _LogregSearch:
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    # the statistics need no fitting: computed once, before the folds; the standardisation is fitted per fold
    return _LogregSearch(StandardScaler(), seed, folds, prepare=summary_features)


_COMPILED: set[str] = set()  # baselines whose just-in-time compiled code this process has run


def _compile_minirocket() -> None:
    """Run MiniRocket once on a tiny set, so that numba's compilation (seconds, once per process) is not counted as
    a fit's time."""
    if "minirocket" in _COMPILED:
        return
    from aeon.transformations.collection.convolution_based import MiniRocket

    state = np.random.get_state()
    try:
        series = np.random.default_rng(0).normal(size=(4, 1, MINIROCKET_SHORTEST))
        MiniRocket(n_kernels=84, n_jobs=1, random_state=0).fit_transform(series)
    finally:
        np.random.set_state(state)
    _COMPILED.add("minirocket")


class _MiniRocketRidge:
    def __init__(self, seed: int, folds: int) -> None:
        from aeon.transformations.collection.convolution_based import MiniRocket
        from sklearn.linear_model import RidgeClassifierCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        del folds  # RidgeClassifierCV chooses its alpha by efficient leave-one-out
        _compile_minirocket()
        self.length = MINIROCKET_SHORTEST
        self.pipeline = make_pipeline(
            MiniRocket(n_kernels=MINIROCKET_KERNELS, n_jobs=1, random_state=seed),
            StandardScaler(with_mean=False),  # as aeon's MiniRocketClassifier (the paper's `normalize=True`)
            RidgeClassifierCV(alphas=np.array(RIDGE_ALPHAS)),
        )

    def fit(self, inputs: list[np.ndarray], ids: np.ndarray) -> dict[str, float]:
        self.length = max(MINIROCKET_SHORTEST, max(len(s) for s in inputs))
        state = np.random.get_state()  # aeon's MiniRocket seeds NumPy's global generator: the caller's is kept
        try:
            self.pipeline.fit(_padded(inputs, self.length), ids)
        finally:
            np.random.set_state(state)
        return {"alpha": float(self.pipeline[-1].alpha_), "length": float(self.length)}

    def predict(self, inputs: list[np.ndarray]) -> np.ndarray:
        return np.asarray(self.pipeline.predict(_padded(inputs, self.length)))

    predict_proba = None


# ---- the registry


@dataclass(frozen=True)
class Baseline:
    """A named classical baseline for one kind of data ('text' or 'series').

    Example:
        >>> get_baseline("tfidf-logreg").describe()
        'TF-IDF (words and word pairs) + logistic regression, C by 5-fold CV'
    """

    name: str
    kind: str  # 'text' or 'series', as DataSpec.kind
    description: str  # for reports; "{folds}" is the number of inner folds
    needs: tuple[str, ...]  # the modules of the extra it uses
    make: Callable[[int, int], Any] = field(repr=False)  # (seed, inner folds) -> unfitted estimator
    has_proba: bool = True

    def describe(self, folds: int = INNER_FOLDS) -> str:
        """The baseline's name for reports."""
        return self.description.format(folds=folds)

    def check(self, inputs: Sequence[Any], channels: int | None = None) -> list[Any]:
        """Inputs of this baseline's kind, checked: texts, or finite series `(steps, channels)`."""
        if self.kind == "text":
            return _check_texts(inputs, self.name)
        return _check_series_inputs(inputs, self.name, channels)


BASELINES: dict[str, Baseline] = {
    b.name: b
    for b in (
        Baseline(
            "tfidf-logreg",
            "text",
            "TF-IDF (words and word pairs) + logistic regression, C by {folds}-fold CV",
            ("sklearn",),
            _tfidf_logreg,
        ),
        Baseline(
            "minirocket",
            "series",
            "MiniRocket (10,000 random-kernel features) + ridge classifier, alpha by leave-one-out CV",
            ("sklearn", "aeon"),
            _MiniRocketRidge,
            has_proba=False,
        ),
        Baseline(
            "summary-logreg",
            "series",
            "Summary statistics per channel (mean, std, min, max, first, last, slope, quantiles) + logistic "
            "regression, C by {folds}-fold CV",
            ("sklearn",),
            _summary_logreg,
        ),
    )
}


def get_baseline(name: str) -> Baseline:
    """The baseline called `name`.

    Raises:
        ValueError: for an unknown name, suggesting the closest.
    """
    if name not in BASELINES:
        raise ValueError(unknown_name("a baseline", name, BASELINES))
    return BASELINES[name]


def baselines_for(kind: str) -> tuple[Baseline, ...]:
    """The baselines for data of `kind` ('text' or 'series', as `DataSpec.kind`), in the order reports list them.

    Example:
        >>> [b.name for b in baselines_for("series")]
        ['minirocket', 'summary-logreg']
    """
    if kind not in ("text", "series"):
        raise ValueError(f"Expected a data kind in ['text', 'series']. Received: {kind!r}")
    return tuple(b for b in BASELINES.values() if b.kind == kind)


@dataclass
class FittedBaseline:
    """A baseline fitted on a training split: predictions as class indices into `classes`.

    Attributes:
        baseline: what was fitted.
        classes: the class names by index.
        channels: the series' channels (None for texts).
        fit_seconds: wall-clock time of the fit, the inner cross-validation included (a process's one-off
            just-in-time compilation not).
        chosen: the settings chosen on the training split (e.g. {"C": 10.0}).
        folds: the inner cross-validation's folds (0 where there is none).
    """

    baseline: Baseline
    classes: tuple[str, ...]
    channels: int | None
    fit_seconds: float
    chosen: dict[str, float]
    folds: int
    estimator: Any = field(repr=False)

    @property
    def name(self) -> str:
        return self.baseline.name

    def describe(self) -> str:
        """The baseline's name for reports, with its folds, e.g. 'TF-IDF (words and word pairs) + logistic
        regression, C by 5-fold CV'."""
        return self.baseline.describe(self.folds or INNER_FOLDS)

    def predict(self, inputs: Sequence[Any]) -> np.ndarray:
        """Class indices `(N,)` (int64) of texts or raw series of the training split's kind."""
        return self.timed_predict(inputs)[0]

    def timed_predict(self, inputs: Sequence[Any]) -> tuple[np.ndarray, float]:
        """Class indices and the wall-clock seconds per example of predicting all of `inputs` in one call."""
        checked = self.baseline.check(inputs, self.channels)
        start = time.perf_counter()
        ids = self.estimator.predict(checked)
        seconds = (time.perf_counter() - start) / len(checked)
        return np.asarray(ids, dtype=np.int64), seconds

    def predict_proba(self, inputs: Sequence[Any]) -> np.ndarray:
        """Class probabilities `(N, len(classes))`, columns in `classes` order.

        Raises:
            ValueError: for a baseline without probabilities (`minirocket`: a ridge classifier).
        """
        if not self.baseline.has_proba:
            with_proba = [b.name for b in BASELINES.values() if b.has_proba]
            raise ValueError(
                f"Expected a baseline with class probabilities ({', '.join(with_proba)}). Received: {self.name!r}, "
                "a ridge classifier, which gives none"
            )
        proba, present = self.estimator.predict_proba(self.baseline.check(inputs, self.channels))
        full = np.zeros((len(proba), len(self.classes)))
        full[:, present] = proba  # classes named in `classes` but absent from training keep 0
        return full


def fit_baseline(
    name: str,
    inputs: Sequence[Any],
    labels: Sequence[str],
    *,
    seed: int = 0,
    classes: Sequence[str] | None = None,
) -> FittedBaseline:
    """Fit the baseline `name` on a training split; its settings are chosen on that split alone.

    Args:
        name: a name from `BASELINES` ('tfidf-logreg' for texts; 'minirocket', 'summary-logreg' for series).
        inputs: the training texts (str), or the raw (unscaled) series, each an array `(steps, channels)` of its
            own length (`LabelledSeries.values`).
        labels: the class name of each input.
        seed: shuffles the inner cross-validation's folds and draws MiniRocket's biases.
        classes: the class names by index, as the models number them (default: the sorted training labels); must
            hold every training label.

    Returns:
        The fitted baseline, with its fit time and chosen settings.

    Raises:
        ValueError: for an unknown name, inputs of the wrong kind, labels not matching the inputs or not in
            `classes`, a single class, a class with one example (where C is chosen by cross-validation), or the
            extra not installed (`pip install -e ".[baselines]"`).

    Example:
        >>> texts = ["good film", "great film", "fine acting", "bad film", "awful plot", "dull acting"] * 2
        >>> fitted = fit_baseline("tfidf-logreg", texts, ["pos"] * 3 + ["neg"] * 3 + ["pos"] * 3 + ["neg"] * 3)
        >>> fitted.predict(["a great film", "a dull plot"]).tolist()  # classes ('neg', 'pos')
        [1, 0]
    """
    baseline = get_baseline(name)
    checked = baseline.check(inputs)
    if isinstance(labels, str) or len(labels) != len(checked):
        count = "a string" if isinstance(labels, str) else f"{len(labels)} labels"
        raise ValueError(f"Expected one label per input ({len(checked)}) for {name!r}. Received: {count}")
    labels = [str(label) for label in labels]
    names = tuple(sorted(set(labels))) if classes is None else tuple(classes)
    unknown = next((label for label in labels if label not in names), None)
    if unknown is not None:
        raise ValueError(f"Expected training labels among the classes {list(names)}. Received: {unknown!r}")
    if len(set(labels)) < 2:
        raise ValueError(f"Expected at least two classes to fit {name!r}. Received: only {sorted(set(labels))}")
    _require(baseline.needs, name)
    index = {c: i for i, c in enumerate(names)}
    ids = np.array([index[label] for label in labels], dtype=np.int64)
    folds = _inner_folds(ids, name, names) if "{folds}" in baseline.description else 0
    estimator = baseline.make(seed, folds)  # before the clock: it compiles what runs just in time
    start = time.perf_counter()
    chosen = estimator.fit(checked, ids)
    fit_seconds = time.perf_counter() - start
    channels = checked[0].shape[1] if baseline.kind == "series" else None
    return FittedBaseline(baseline, names, channels, fit_seconds, chosen, folds, estimator)
