"""The report of a comparison on the user's data, from its `results.csv` and `runs.json` alone: the table of every
model and baseline over the paired splits (mean, 95 % interval, paired differences to the best), "which model,
when", the per-split figure and, with a grid, every model at every point, each model's point chosen on its splits'
validation parts (never the test set): grid.csv and grid.png.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write, write_csv
from .grid import point_label
from .plots import plot_grid, plot_splits
from .report import Report
from .significance import mean_ci, paired

__all__ = ["IMBALANCE_RATIO", "Entry", "chosen_cells", "grid_sections", "which_model_when", "write_data_report"]

IMBALANCE_RATIO = 1.5  # classes are imbalanced where the largest has more than this many times the smallest's count


@dataclass(frozen=True)
class Entry:
    """One model or baseline over the splits: per-split figures in split order."""

    label: str
    name: str  # for the table: the model's label, or "baseline: <describe()>"
    baseline: bool
    accuracy: np.ndarray
    macro_f1: np.ndarray
    train_seconds: np.ndarray
    latency_ms: np.ndarray
    validation_accuracy: np.ndarray | None = None  # with a grid: each model run's score on its split's validation part
    validation_loss: np.ndarray | None = None

    def score(self, metric: str) -> np.ndarray:
        return self.accuracy if metric == "accuracy" else self.macro_f1


def paired_text(a: np.ndarray, b: np.ndarray) -> str:
    """The paired test's p-value as the report prints it; a difference that is the same on every split has none."""
    differences = a - b
    if np.allclose(differences, differences[0]) and not np.allclose(differences, 0):
        return "the same difference on every split"
    return f"p = {paired(a, b):.2g}"


def _entries(directory: Path, runs: dict[str, Any]) -> list[Entry]:
    import csv

    rows: dict[str, list[dict[str, str]]] = {}
    with (directory / "results.csv").open(newline="") as file:
        for row in csv.DictReader(file):
            rows.setdefault(row["model"], []).append(row)
    out = []
    for label in [*runs["models"], *runs["baselines"]]:
        mine = sorted(rows.get(label, []), key=lambda r: int(r["split"]))
        if len(mine) != runs["spec"]["splits"]:
            raise ValueError(
                f"Expected {runs['spec']['splits']} rows of {label} in {directory / 'results.csv'}. "
                f"Received: {len(mine)}"
            )
        figures = [
            np.array([float(r[k]) for r in mine]) for k in ("accuracy", "macro_f1", "train_seconds", "latency_ms")
        ]
        baseline = label in runs["baselines"]
        held = [np.array([float(r[k]) for r in mine]) for k in VALIDATION_COLUMNS if not baseline and k in mine[0]]
        name = f"baseline: {runs['baselines'][label]}" if baseline else label
        out.append(Entry(label, name, baseline, *figures, *held))
    return out


VALIDATION_COLUMNS = ("validation_accuracy", "validation_loss")
# Said where a baseline is as good as the models on texts without vectors: what `--vectors` did on lstmlab's own
# four sets (benchmarks/text_defaults.py, docs/how-to/vectors.md), not a promise
VECTORS_HINT = (
    "Pretrained word vectors (--vectors) are the usual lever on small text sets, but measure them: on lstmlab's "
    "sentence sets neither spaCy's pruned en_core_web_md table nor word2vec trained on each split moved the default "
    "model past this baseline (fine-tuned they were level or below, frozen far below); full GloVe or fastText "
    "files were not measured. Compare them on these splits with --vectors"
)


def imbalanced(classes: dict[str, int]) -> bool:
    """Whether the largest class has more than IMBALANCE_RATIO times the examples of the smallest."""
    return max(classes.values()) > IMBALANCE_RATIO * min(classes.values())


def _fmt(mean: float, half: float) -> str:
    return f"{mean:.3f} ± {half:.3f}" if not math.isnan(half) else f"{mean:.3f}"


def _table(entries: list[Entry], best: Entry, metric: str, show_f1: bool) -> list[str]:
    head = "| model | accuracy | " + ("macro-F1 | " if show_f1 else "")
    head += f"vs {best.label} (paired t) | training s (median) | ms per example |"
    lines = [head, "|---|---|" + ("---|" if show_f1 else "") + "---|---|---|"]
    for e in entries:
        if e is best:
            versus = "best"
        else:
            gap = float(e.score(metric).mean() - best.score(metric).mean())
            versus = f"{gap:+.3f}, {paired_text(best.score(metric), e.score(metric))}"
        f1 = f"{_fmt(*mean_ci(e.macro_f1))} | " if show_f1 else ""
        lines.append(
            f"| {e.name} | {_fmt(*mean_ci(e.accuracy))} | {f1}{versus} | {float(np.median(e.train_seconds)):.2f} | "
            f"{float(np.median(e.latency_ms)):.3f} |"
        )
    return lines


def which_model_when(entries: list[Entry], metric: str) -> list[str]:
    """Sentences drawn from the numbers: the best, what is level with it (paired t-test, p >= 0.05), and whether a
    baseline is as good."""
    best = max(entries, key=lambda e: float(e.score(metric).mean()))
    level = [e for e in entries if e is not best and paired(best.score(metric), e.score(metric)) >= 0.05]
    baselines = [e for e in entries if e.baseline]
    models = [e for e in entries if not e.baseline]

    def said(e: Entry) -> str:
        p = "" if e is best else f", {paired_text(best.score(metric), e.score(metric))}"
        return (
            f"{e.label} ({metric} {_fmt(*mean_ci(e.score(metric)))}{p}; trains in "
            f"{float(np.median(e.train_seconds)):.2f} s, {float(np.median(e.latency_ms)):.3f} ms per example)"
        )

    lines = [f"- Best {metric}: {said(best)}."]
    if level:
        lines.append(f"- Not separable from it over these splits: {'; '.join(said(e) for e in level)}.")
    else:
        lines.append("- Every other entry is significantly below it (paired t-test, p < 0.05).")
    as_good = [e for e in baselines if e is best or e in level]
    if as_good:
        cheapest = min(as_good, key=lambda e: float(np.median(e.train_seconds)))
        top_model = max(models, key=lambda e: float(e.score(metric).mean()))
        beaten = best.baseline and not any(e in level for e in models)  # every model significantly below it
        verdict = "A baseline is better" if beaten else "A baseline is as good"
        lines.append(
            f"- {verdict}; use it: {cheapest.name} ({_fmt(*mean_ci(cheapest.score(metric)))} against "
            f"{_fmt(*mean_ci(top_model.score(metric)))} for the best model, {top_model.label}). The models are worth "
            "their training time here only with more data or where the order of the inputs decides more."
        )
    elif baselines:
        lines.append(
            f"- {best.label} beats every baseline (paired t-test, p < 0.05); the best baseline scores "
            f"{_fmt(*mean_ci(max(baselines, key=lambda e: float(e.score(metric).mean())).score(metric)))}."
        )
    tied_models = [e for e in models if e is best or e in level]
    if len(tied_models) > 1:
        fastest = min(tied_models, key=lambda e: float(np.median(e.train_seconds)))
        lines.append(f"- Of the models level with the best, {fastest.label} trains fastest.")
    if len(best.accuracy) < 5:
        lines.append(f"- Only {len(best.accuracy)} splits: small differences cannot be separated; use more --seeds.")
    return lines


def _vectors_lines(data: dict[str, Any], entries: list[Entry], metric: str) -> list[str]:
    """What pretrained word vectors did or could do here: which the models started from, or, for texts where a
    baseline is as good as the best model, the option that changes that most on small sets."""
    vectors = data.get("vectors")  # absent in comparisons made before --vectors
    if vectors:
        return [f"- Every model started from the word vectors in {vectors['file']} ({vectors['mode']})."]
    if data["kind"] != "text" or not any(e.baseline for e in entries):
        return []
    best_model = max((e for e in entries if not e.baseline), key=lambda e: float(e.score(metric).mean()), default=None)
    best_baseline = max((e for e in entries if e.baseline), key=lambda e: float(e.score(metric).mean()))
    if best_model is None or float(best_model.score(metric).mean()) > float(best_baseline.score(metric).mean()):
        return []
    return [f"- {VECTORS_HINT}"]


def write_data_report(directory: Path) -> Report:
    """summary.csv and report.md of a comparison on data, from its results.csv and runs.json.

    Raises:
        ValueError: a results.csv lacking rows for a model or baseline.

    Example:
        >>> write_data_report(Path("comparisons/yelp")).path
        PosixPath('comparisons/yelp/report.md')
    """
    runs = json.loads((directory / "runs.json").read_text())
    every = _entries(directory, runs)
    data, classes = runs["data"], runs["data"]["classes"]
    show_f1 = imbalanced(classes)
    metric = "macro_f1" if show_f1 else "accuracy"
    entries, grid_how, grid_lines = every, "", list[str]()
    if "grid" in runs:
        entries, grid_how, grid_lines = grid_sections(directory, runs, every, metric)
    best = max(entries, key=lambda e: float(e.score(metric).mean()))
    write_csv(directory / "summary.csv", [_summary_row(e) for e in every])
    counts = ", ".join(f"{name}: {count}" for name, count in classes.items())
    rule = (
        f"the classes are imbalanced (the largest has more than {IMBALANCE_RATIO:g} times the smallest's examples), "
        "so macro-F1 is shown and the best is chosen on it"
        if show_f1
        else f"the classes are balanced (the largest has at most {IMBALANCE_RATIO:g} times the smallest's examples): "
        "accuracy alone"
    )
    trained = "; ".join(
        f"{label}: {t['epochs']} epoch{'' if t['epochs'] == 1 else 's'}, batch {t['batch_size']}, "
        f"learning rate {t['learning_rate']:g} "
        f"({t['schedule']}), "
        + (f"ensemble of {t['ensemble']}" if t["ensemble"] > 1 else "one model")
        + (f", best epoch on the last {t['validation_split']:.0%}" if t["validation_split"] else "")
        for label, t in runs["training"].items()
        if any(e.label == label for e in entries)
    )
    conclusions = which_model_when(entries, metric) + _vectors_lines(data, entries, metric)
    lines = [
        f"# Comparison: models on {data['path']}",
        "",
        f"{data['examples']} {data['kind']} examples ({counts}); {runs['splits']['how']}. Every model and baseline is "
        f"trained and scored on the same splits (their test indices are in runs.json). {len(entries)} entries x "
        f"{runs['spec']['splits']} splits in {runs['training_seconds']:.1f} s of wall time, {runs['spec']['workers']} "
        f"at a time. Models trained as `lstmlab train --data` would: {trained}. Baselines choose their settings on "
        f"each training split alone. ± is a 95 % confidence interval over splits (Student t); {rule}. Each entry is "
        f"tested against the best by a paired t-test over the splits"
        + (" (folds share training examples, so its p-values are optimistic)" if runs["spec"]["folds"] else "")
        + ". Training time: fitting on one split (the baselines' inner cross-validation included); latency: the "
        "median time to answer one example alone." + (f" {grid_how}" if grid_how else ""),
        "",
        *_table(entries, best, metric, show_f1),
        "",
        "![each entry's score on every split, the splits joined](scores.png)",
        "",
        "## Which model, when",
        "",
        *conclusions,
        "",
        *grid_lines,
    ]
    path = directory / "report.md"
    atomic_write(path, "\n".join(lines).encode())
    plot_splits(
        [(e.label, e.score(metric), e.baseline) for e in entries],
        directory / "scores.png",
        metric="macro-F1" if show_f1 else "accuracy",
        title=f"models and baselines on {data['path']}, split by split",
    )
    return Report(path, "\n".join(conclusions))


def _summary_row(e: Entry) -> dict[str, Any]:
    accuracy, accuracy_ci = mean_ci(e.accuracy)
    f1, f1_ci = mean_ci(e.macro_f1)
    return {
        "model": e.label,
        "baseline": int(e.baseline),
        "splits": len(e.accuracy),
        "accuracy": accuracy,
        "accuracy_ci95": accuracy_ci,
        "macro_f1": f1,
        "macro_f1_ci95": f1_ci,
        "train_seconds": float(np.median(e.train_seconds)),
        "latency_ms": float(np.median(e.latency_ms)),
    }


# ------------------------------------------------------------------------------------------ the grid's sections
def _mean(values: np.ndarray | None) -> float:
    return float("nan") if values is None else float(np.mean(values))


def chosen_cells(entries: list[Entry], runs: dict[str, Any]) -> dict[str, Entry]:
    """Each model's cell with the best mean validation accuracy over the splits (ties: the lower mean validation
    loss, then the first point).

    Raises:
        ValueError: a cell without validation figures (a results.csv written without a grid).
    """
    by_label = {e.label: e for e in entries}
    chosen = {}
    for model in runs["grid"]["models"]:
        mine = [by_label[c["label"]] for c in runs["grid"]["cells"] if c["model"] == model]
        missing = [e.label for e in mine if e.validation_accuracy is None or e.validation_loss is None]
        if missing:
            raise ValueError(f"Expected validation figures for every grid cell. Received: none for {missing[0]}")
        chosen[model] = min(mine, key=lambda e: (-_mean(e.validation_accuracy), _mean(e.validation_loss)))
    return chosen


def _validation(entry: Entry) -> np.ndarray:
    assert entry.validation_accuracy is not None  # chosen_cells checked every cell
    return entry.validation_accuracy


def _fmt_values(values: np.ndarray) -> str:
    return _fmt(*mean_ci(values))


def _points(cells: list[dict[str, Any]]) -> tuple[list[str], dict[tuple[str, str], str]]:
    """The grid's points as text, in grid order, and each (model, point)'s cell label."""
    points = list(dict.fromkeys(point_label(c["point"]) for c in cells))
    return points, {(c["model"], point_label(c["point"])): c["label"] for c in cells}


def _matrix(cells: list[dict[str, Any]], by_label: dict[str, Entry], models: list[str], metric: str) -> list[str]:
    """Each model's test score (columns) at each point (rows); the leader of each row in bold."""
    points, label = _points(cells)
    lines = ["| point | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for point in points:
        scores = {m: by_label[label[m, point]].score(metric) for m in models}
        top = max(models, key=lambda m: float(scores[m].mean()))
        texts = [f"**{_fmt_values(scores[m])}**" if m == top else _fmt_values(scores[m]) for m in models]
        lines.append(f"| {point} | " + " | ".join(texts) + " |")
    return lines


def _leaders(cells: list[dict[str, Any]], by_label: dict[str, Entry], models: list[str], metric: str) -> list[str]:
    """A sentence on whether the leader on the test splits changes with the point."""
    points, label = _points(cells)
    leading = [max(models, key=lambda m: float(by_label[label[m, p]].score(metric).mean())) for p in points]
    if len(models) < 2:
        return []
    if len(set(leading)) == 1:
        return [f"- {leading[0]} leads at every point of the grid."]
    where = "; ".join(
        f"{m} at {', '.join(p for p, lead in zip(points, leading, strict=True) if lead == m)}"
        for m in dict.fromkeys(leading)
    )
    return [
        f"- The leader changes with the settings ({where}): a comparison at one setting can mislead; the table above "
        "compares each model at its own point chosen on validation."
    ]


def _cell_table(mine: list[Entry], chosen: Entry, points: list[str], metric: str) -> list[str]:
    name = "macro-F1" if metric == "macro_f1" else "accuracy"
    lines = [f"| point | validation accuracy | validation loss | test {name} | training s (median) |", "|---" * 5 + "|"]
    for entry, point in zip(mine, points, strict=True):
        assert entry.validation_accuracy is not None
        assert entry.validation_loss is not None
        mark = " (chosen)" if entry is chosen else ""
        lines.append(
            f"| {point}{mark} | {_fmt_values(entry.validation_accuracy)} | {_fmt_values(entry.validation_loss)} | "
            f"{_fmt_values(entry.score(metric))} | {float(np.median(entry.train_seconds)):.2f} |"
        )
    return lines


def _rows(cells: list[dict[str, Any]], by_label: dict[str, Entry], chosen: dict[str, Entry]) -> list[dict[str, Any]]:
    rows = []
    for c in cells:
        e = by_label[c["label"]]
        accuracy, accuracy_ci = mean_ci(e.accuracy)
        rows.append(
            {
                "model": c["model"],
                **c["point"],
                "validation_accuracy": _mean(e.validation_accuracy),
                "validation_loss": _mean(e.validation_loss),
                "accuracy": accuracy,
                "accuracy_ci95": accuracy_ci,
                "macro_f1": float(e.macro_f1.mean()),
                "train_seconds": float(np.median(e.train_seconds)),
                "chosen": int(chosen[c["model"]] is e),
            }
        )
    return rows


def grid_sections(
    directory: Path, runs: dict[str, Any], entries: list[Entry], metric: str
) -> tuple[list[Entry], str, list[str]]:
    """The entries the main table shows (each model at its chosen point, then the baselines), a sentence on how the
    grid ran, and the report's grid sections; writes grid.csv and grid.png (one or two axes) in `directory`."""
    grid = runs["grid"]
    models, cells = list(grid["models"]), list(grid["cells"])
    by_label = {e.label: e for e in entries}
    chosen = chosen_cells(entries, runs)
    shown = [dataclasses.replace(chosen[m], name=f"{chosen[m].label} (chosen on validation)") for m in models]
    shown += [e for e in entries if e.baseline]
    write_csv(directory / "grid.csv", _rows(cells, by_label, chosen))
    axes = [(key, list(values)) for key, values in grid["axes"]]
    drawn = plot_grid(
        directory / "grid.png",
        cells=[(c["model"], c["point"], e.accuracy, _validation(e)) for c in cells for e in [by_label[c["label"]]]],
        models=models,
        axes=axes,
        chosen={m: next(c["point"] for c in cells if c["label"] == chosen[m].label) for m in models},
        title=Path(runs["data"]["path"]).name,
    )
    values = "; ".join(f"{key} = {', '.join(map(str, vals))}" for key, vals in grid["axes"])
    points = len(cells) // len(models)
    how = (
        f"Grid: {values} ({points} points): every model at every point on every split. Each split's training part "
        f"holds out {grid['validation']:.0%} of each class (drawn by the split's seed) as validation data; every "
        "model run and every baseline trains on the rest, and each model's point is the one with the best mean "
        "validation accuracy over the splits, never chosen on the test set. The table shows each model at that "
        "point; every point is below."
    )
    lines = ["## Each model at each grid point", "", *_matrix(cells, by_label, models, metric), ""]
    lines += [*_leaders(cells, by_label, models, metric), ""]
    for m in models:
        mine = [by_label[c["label"]] for c in cells if c["model"] == m]
        labels = [point_label(c["point"]) for c in cells if c["model"] == m]
        lines += [f"### {m}", "", *_cell_table(mine, chosen[m], labels, metric), ""]
    if drawn:
        lines += ["![each model's test accuracy at each point; the chosen point marked](grid.png)", ""]
    return shown, how, lines
