"""The classical baselines of comparisons on data: each learns what decides its fixture, chooses C on the training
split alone, computes the summary statistics a hand computation gives, repeats itself with a seed, and refuses bad
input in one line."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lstmlab.compare import baselines
from lstmlab.compare.baselines import (
    LOGREG_CS,
    SUMMARY_STATISTICS,
    baselines_for,
    fit_baseline,
    get_baseline,
    summary_features,
)

pytest.importorskip("sklearn")
pytest.importorskip("aeon")

FILLER = [f"w{i}" for i in range(40)]


def _accuracy(fitted: baselines.FittedBaseline, inputs: list, labels: list[str]) -> float:
    truth = np.array([fitted.classes.index(label) for label in labels])
    return float(np.mean(fitted.predict(inputs) == truth))


# ---- texts


def _word_texts(count: int, seed: int, *, flip: float = 0.0) -> tuple[list[str], list[str]]:
    """Six filler words and one cue word: 'good'/'great'/'fine' for pos, 'bad'/'awful'/'dull' for neg; `flip`
    of the labels are then swapped (noise, so that C matters)."""
    rng = np.random.default_rng(seed)
    cues = {"pos": ["good", "great", "fine"], "neg": ["bad", "awful", "dull"]}
    texts, labels = [], []
    for i in range(count):
        label = ("pos", "neg")[i % 2]
        words = [*rng.choice(FILLER, 6), rng.choice(cues[label])]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label if rng.random() >= flip else {"pos": "neg", "neg": "pos"}[label])
    return texts, labels


def _pair_texts(count: int, seed: int) -> tuple[list[str], list[str]]:
    """Every text holds 'alpha' and 'beta' once among fillers: adjacent as 'alpha beta' (class 'ab') or 'beta alpha'
    (class 'ba'). Word counts are the same in both classes; only word pairs tell them apart."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(count):
        label = ("ab", "ba")[i % 2]
        words = list(rng.choice(FILLER, 6))
        at = int(rng.integers(0, 7))
        words[at:at] = ["alpha", "beta"] if label == "ab" else ["beta", "alpha"]
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def test_tfidf_logreg_learns_the_words_that_decide() -> None:
    train, test = _word_texts(200, 0), _word_texts(100, 1)
    fitted = fit_baseline("tfidf-logreg", *train, seed=0)
    assert _accuracy(fitted, *test) >= 0.97
    assert fitted.classes == ("neg", "pos")
    assert fitted.describe() == "TF-IDF (words and word pairs) + logistic regression, C by 5-fold CV"
    proba = fitted.predict_proba(test[0])
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(proba.argmax(1), fitted.predict(test[0]))
    ids, seconds = fitted.timed_predict(test[0])
    assert ids.dtype == np.int64 and seconds > 0 and fitted.fit_seconds > 0  # measured, never bounded: no timings


def test_tfidf_logreg_reads_word_pairs() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    (texts, labels), test = _pair_texts(200, 0), _pair_texts(100, 1)
    assert _accuracy(fit_baseline("tfidf-logreg", texts, labels, seed=0), *test) >= 0.95
    # the fixture needs pairs: the best single-word model is at chance
    words_only = make_pipeline(TfidfVectorizer(), LogisticRegression(C=100.0)).fit(texts, labels)
    assert np.mean(words_only.predict(test[0]) == np.array(test[1])) <= 0.65


def test_c_is_chosen_by_cross_validation_on_the_training_split_alone() -> None:
    """An independent inner CV by hand (same folds, fresh pipelines, first best C) on the training texts only picks
    the same C; the held-out texts never enter (two different test sets leave the fit as it was)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from lstmlab.data.text import tokenize

    texts, labels = _word_texts(120, 2, flip=0.25)
    y = np.array(labels)
    scores = []
    for c in LOGREG_CS:
        right = []
        for inner_train, inner_test in StratifiedKFold(5, shuffle=True, random_state=3).split(texts, y):
            vectorizer = TfidfVectorizer(
                tokenizer=tokenize, lowercase=False, token_pattern=None, ngram_range=(1, 2), sublinear_tf=True
            )
            x = vectorizer.fit_transform([texts[i] for i in inner_train])
            model = LogisticRegression(C=c, max_iter=5000).fit(x, y[inner_train])
            right.append(np.mean(model.predict(vectorizer.transform([texts[i] for i in inner_test])) == y[inner_test]))
        scores.append(np.mean(right))
    assert max(scores) - min(scores) > 0.05  # C matters on this fixture
    fitted = fit_baseline("tfidf-logreg", texts, labels, seed=3)
    assert fitted.chosen == {"C": LOGREG_CS[int(np.argmax(scores))]}
    before = fitted.predict(texts)
    for seed in (4, 5):
        fitted.predict(_word_texts(50, seed)[0])
    assert fitted.chosen == {"C": LOGREG_CS[int(np.argmax(scores))]}
    np.testing.assert_array_equal(fitted.predict(texts), before)


# ---- series


def _waves(count: int, seed: int, *, channels: int = 1, lengths: tuple[int, int] = (60, 60)) -> tuple[list, list]:
    """Noise in every channel; channel 0 also holds a sine of 3 (class 'slow') or 7 (class 'fast') cycles per 60
    steps, with a random phase, amplitude and offset: the frequency decides, never the level."""
    rng = np.random.default_rng(seed)
    values, labels = [], []
    for i in range(count):
        label = ("slow", "fast")[i % 2]
        steps = int(rng.integers(lengths[0], lengths[1] + 1))
        series = 0.3 * rng.normal(size=(steps, channels))
        t = np.arange(steps)
        cycles = 3 if label == "slow" else 7
        series[:, 0] += rng.uniform(0.5, 2) * np.sin(2 * np.pi * cycles * t / 60 + rng.uniform(0, 2 * np.pi))
        series[:, 0] += rng.normal(0, 2)
        values.append(series)
        labels.append(label)
    return values, labels


def _levels(count: int, seed: int, *, channels: int = 1, lengths: tuple[int, int] = (30, 30)) -> tuple[list, list]:
    """Random walks in every channel; the last channel's level is 1 higher in class 'high' than in class 'low'."""
    rng = np.random.default_rng(seed)
    values, labels = [], []
    for i in range(count):
        label = ("low", "high")[i % 2]
        steps = int(rng.integers(lengths[0], lengths[1] + 1))
        series = np.cumsum(0.1 * rng.normal(size=(steps, channels)), axis=0)
        series[:, -1] += (1.0 if label == "high" else 0.0) + 0.2 * rng.normal()
        values.append(series)
        labels.append(label)
    return values, labels


@pytest.mark.parametrize(
    ("channels", "lengths"),
    [(1, (60, 60)), (3, (60, 60)), (1, (40, 80)), (3, (40, 80))],
    ids=["univariate", "multivariate", "univariate-unequal", "multivariate-unequal"],
)
def test_minirocket_hears_the_frequency(channels: int, lengths: tuple[int, int]) -> None:
    train = _waves(60, 0, channels=channels, lengths=lengths)
    test = _waves(60, 1, channels=channels, lengths=(lengths[0], lengths[1] + 10))  # test series may be longer
    fitted = fit_baseline("minirocket", *train, seed=0)
    assert _accuracy(fitted, *test) >= 0.9
    assert fitted.chosen["length"] == max(len(s) for s in train[0])
    assert fitted.describe().startswith("MiniRocket")


def test_minirocket_answers_as_aeons_own_classifier_on_equal_lengths() -> None:
    """aeon's MiniRocketClassifier (the transform, scaling without centring, RidgeClassifierCV) is the oracle."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    rng = np.random.default_rng(0)  # noise with labels i % 2: the answers hang on every detail of the fit
    values, labels, test = list(rng.normal(size=(40, 30, 2))), ["a", "b"] * 20, list(rng.normal(size=(200, 30, 2)))
    ours = fit_baseline("minirocket", values, labels, seed=3)
    theirs = MiniRocketClassifier(random_state=3).fit(np.stack([v.T for v in values]), np.array(labels))
    expected = theirs.predict(np.stack([v.T for v in test]))
    assert 0.2 < np.mean(expected == "a") < 0.8
    np.testing.assert_array_equal(np.array(ours.classes)[ours.predict(test)], expected)
    assert ours.chosen["alpha"] == theirs.estimator_.alpha_


def test_minirocket_leaves_the_global_numpy_generator_alone() -> None:
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    fit_baseline("minirocket", *_waves(10, 0), seed=5)
    assert np.random.random() == expected


@pytest.mark.parametrize(
    ("channels", "lengths"),
    [(1, (30, 30)), (3, (30, 30)), (1, (10, 50)), (3, (10, 50))],
    ids=["univariate", "multivariate", "univariate-unequal", "multivariate-unequal"],
)
def test_summary_logreg_sees_the_level(channels: int, lengths: tuple[int, int]) -> None:
    train, test = _levels(80, 0, channels=channels, lengths=lengths), _levels(80, 1, channels=channels, lengths=lengths)
    fitted = fit_baseline("summary-logreg", *train, seed=0)
    assert _accuracy(fitted, *test) >= 0.9
    assert fitted.predict_proba(test[0]).shape == (80, 2)


def test_minirocket_takes_series_shorter_than_a_kernel() -> None:
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(int(rng.integers(2, 8)), 2)) for _ in range(20)]
    fitted = fit_baseline("minirocket", values, ["a", "b"] * 10, seed=0)
    assert fitted.chosen["length"] == 9
    assert fitted.predict(values[:3]).shape == (3,)


def test_padding_repeats_the_last_value_and_cuts_longer_series() -> None:
    padded = baselines._padded([np.array([[1.0, 2.0], [3.0, 4.0]]), np.arange(10.0).reshape(5, 2)], 3)
    np.testing.assert_array_equal(padded[0], [[1, 3, 3], [2, 4, 4]])
    np.testing.assert_array_equal(padded[1], [[0, 2, 4], [1, 3, 5]])


def test_summary_features_match_a_hand_computation() -> None:
    series = np.array([[1.0, 10.0], [2.0, 0.0], [6.0, 5.0]])
    expected = {  # by hand: slope over steps 0, 1, 2 (centred -1, 0, 1); quantile q at sorted position 2q
        "mean": (3.0, 5.0),
        "std": (np.sqrt(14 / 3), np.sqrt(50 / 3)),
        "min": (1.0, 0.0),
        "max": (6.0, 10.0),
        "first": (1.0, 10.0),
        "last": (6.0, 5.0),
        "slope": (2.5, -2.5),
        "q0.1": (1.2, 1.0),
        "q0.25": (1.5, 2.5),
        "q0.5": (2.0, 5.0),
        "q0.75": (4.0, 7.5),
        "q0.9": (5.2, 9.0),
    }
    assert tuple(expected) == SUMMARY_STATISTICS
    features = summary_features([series, np.array([[7.0, -1.0]])])
    np.testing.assert_allclose(features[0], np.concatenate([expected[s] for s in SUMMARY_STATISTICS]))
    one_step = dict(zip(SUMMARY_STATISTICS, features[1].reshape(-1, 2), strict=True))
    np.testing.assert_array_equal(one_step["slope"], [0.0, 0.0])
    np.testing.assert_array_equal(one_step["std"], [0.0, 0.0])
    np.testing.assert_array_equal(one_step["q0.9"], [7.0, -1.0])


def _noise(count: int, seed: int, text: bool) -> list:
    """Inputs that decide nothing: with labels i % 2, a fit is all detail, so any unseeded draw shows."""
    rng = np.random.default_rng(seed)
    if text:
        return [" ".join(rng.choice(FILLER, 6)) for _ in range(count)]
    return [rng.normal(size=(int(rng.integers(30, 50)), 2)) for _ in range(count)]


@pytest.mark.parametrize("name", ["tfidf-logreg", "minirocket", "summary-logreg"])
def test_a_seed_repeats_the_fit(name: str) -> None:
    text = name == "tfidf-logreg"
    inputs, labels, test = _noise(60, 0, text), ["a", "b"] * 30, _noise(200, 1, text)
    first, second = (fit_baseline(name, inputs, labels, seed=7) for _ in range(2))
    assert first.chosen == second.chosen
    np.testing.assert_array_equal(first.predict(test), second.predict(test))
    if get_baseline(name).has_proba:
        np.testing.assert_array_equal(first.predict_proba(test), second.predict_proba(test))
    else:  # MiniRocket's biases are drawn by the seed: another seed answers otherwise
        assert np.mean(fit_baseline(name, inputs, labels, seed=8).predict(test) != first.predict(test)) > 0.05


def test_classes_given_fix_the_indices() -> None:
    texts, labels = _word_texts(60, 0)
    fitted = fit_baseline("tfidf-logreg", texts, labels, classes=["pos", "other", "neg"])
    np.testing.assert_array_equal(fitted.predict(["good w1", "awful w2"]), [0, 2])
    proba = fitted.predict_proba(["good w1"])
    assert proba.shape == (1, 3) and proba[0, 1] == 0 and proba[0, 0] > 0.5


# ---- the registry and refusals


def test_registry_by_kind() -> None:
    assert [b.name for b in baselines_for("text")] == ["tfidf-logreg"]
    assert [b.name for b in baselines_for("series")] == ["minirocket", "summary-logreg"]
    with pytest.raises(ValueError, match=r"^Expected a data kind in \['text', 'series'\]. Received: 'texts'$"):
        baselines_for("texts")
    with pytest.raises(ValueError, match="did you mean 'minirocket'"):
        get_baseline("minirocked")


def test_refusals_in_one_line() -> None:
    texts, labels = _word_texts(20, 0)
    series, series_labels = _levels(20, 0, channels=2)
    refusals = [
        (
            ("minirocket", texts, labels),
            r"Expected series as arrays of numbers for 'minirocket'. Received: str at index 0",
        ),
        (("tfidf-logreg", series, labels), r"Expected texts \(str\) for 'tfidf-logreg'. Received: ndarray at index 0"),
        (
            ("tfidf-logreg", "one text", ["pos"]),
            r"Expected a non-empty list of texts for 'tfidf-logreg'. Received: str",
        ),
        (
            ("summary-logreg", np.zeros((4, 5, 1)), labels[:4]),
            r"Expected a non-empty list of series .* Received: ndarray",
        ),
        (
            ("tfidf-logreg", texts, ["pos"] * 20),
            r"Expected at least two classes to fit 'tfidf-logreg'. Received: only \['pos'\]",
        ),
        (
            ("tfidf-logreg", texts, labels[:5]),
            r"Expected one label per input \(20\) for 'tfidf-logreg'. Received: 5 labels",
        ),
        (
            ("summary-logreg", series, ["low"] * 19 + ["high"]),
            r"Expected at least two training examples of each class .* Received: one of 'high'",
        ),
        (
            ("summary-logreg", [series[0], series[1][:, :1]], ["a", "b"]),
            r"Expected 2 channels in every series. Received: 1 in",
        ),
        (("summary-logreg", [np.array([[np.nan]]), np.ones((2, 1))], ["a", "b"]), r"Expected finite values in"),
    ]
    for (name, inputs, given), message in refusals:
        with pytest.raises(ValueError, match=message) as raised:
            fit_baseline(name, inputs, given)
        assert "\n" not in str(raised.value)
    fitted = fit_baseline("summary-logreg", series, series_labels)
    with pytest.raises(ValueError, match=r"Expected 2 channels in every series. Received: 3 in"):
        fitted.predict([np.zeros((5, 3))])
    with pytest.raises(ValueError, match=r"Expected training labels among the classes \['low'\]. Received: 'high'"):
        fit_baseline("summary-logreg", series, series_labels, classes=["low"])
    rocket = fit_baseline("minirocket", series, series_labels)
    with pytest.raises(
        ValueError, match=r"^Expected a baseline with class probabilities \(tfidf-logreg, summary-logreg\)"
    ):
        rocket.predict_proba(series)


@pytest.mark.parametrize(("module", "name"), [("sklearn", "tfidf-logreg"), ("aeon", "minirocket")])
def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch, module: str, name: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    inputs, labels = _word_texts(20, 0) if name == "tfidf-logreg" else _waves(20, 0)
    package = {"sklearn": "scikit-learn"}.get(module, module)
    message = (
        rf'^Expected {package} for the baseline {name!r}. Received: not installed; pip install -e "\.\[baselines\]"$'
    )
    with pytest.raises(ValueError, match=message):
        fit_baseline(name, inputs, labels)


def test_importing_the_module_needs_neither_extra() -> None:
    code = (
        "import sys; sys.modules['sklearn'] = None; sys.modules['aeon'] = None\n"
        "from lstmlab.compare.baselines import baselines_for\n"
        "print([b.describe() for b in baselines_for('series')])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "MiniRocket" in done.stdout


def test_tfidf_features_equal_scikit_learns_word_ngrams() -> None:
    """The texts are tokenised once, before the grid search; the features are what TfidfVectorizer makes of the same
    tokens with ngram_range=(1, 2) (the oracle)."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    from lstmlab.compare.baselines import _token_lists, _words_and_pairs
    from lstmlab.data.text import tokenize

    texts = ["A fine film, truly fine.", "Not good at all!", "good good good", "x", "isn't it"]
    oracle = TfidfVectorizer(
        tokenizer=tokenize, lowercase=False, token_pattern=None, ngram_range=(1, 2), sublinear_tf=True
    )
    ours = TfidfVectorizer(analyzer=_words_and_pairs, sublinear_tf=True)
    want = oracle.fit_transform(texts).toarray()
    got = ours.fit_transform(_token_lists(texts)).toarray()
    assert ours.vocabulary_ == oracle.vocabulary_ and "fine film" in ours.vocabulary_
    np.testing.assert_allclose(got, want)
