"""From a task comparison's CSV to its summary, curves and report: reads only `results.csv` and `runs.json`."""

from __future__ import annotations

import csv
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write, write_csv
from .grid import point_label
from .plots import plot_curves, plot_grid
from .significance import mean_ci, welch
from .spec import SMOOTH

__all__ = [
    "Cell",
    "Report",
    "Summary",
    "best_point",
    "grid_cells",
    "grid_rows",
    "leaders",
    "load_results",
    "matched_tuning",
    "summarise",
    "summary_rows",
    "write_task_report",
]

TARGET_ACCURACY = 0.9  # "updates to reach": first update where the accuracy over the last 20 updates reaches this
WINDOW = 20


@dataclass(frozen=True)
class Summary:
    """Per-model figures over seeds: each array has one value per seed."""

    model: str
    final_loss: np.ndarray  # mean loss over the last 50 updates, per seed
    final_accuracy: np.ndarray
    test_accuracy: np.ndarray
    updates_to_target: np.ndarray  # nan where never reached
    parameters: int


def load_results(directory: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
    """Loss and accuracy curves per model, (seeds, updates) each, and the runs description."""
    results, runs_path = directory / "results.csv", directory / "runs.json"
    if not results.is_file() or not runs_path.is_file():
        raise ValueError(f"Expected a comparison directory with results.csv and runs.json. Received: {directory}")
    runs = json.loads(runs_path.read_text())
    table: dict[str, dict[int, list[tuple[int, float, float]]]] = {}
    with results.open(newline="") as file:
        for number, row in enumerate(csv.DictReader(file), start=2):
            try:
                entry = (int(row["update"]), float(row["loss"]), float(row["accuracy"]))
                table.setdefault(row["model"], {}).setdefault(int(row["seed"]), []).append(entry)
            except (KeyError, TypeError, ValueError):
                raise ValueError(
                    f"Expected model, seed, update, loss, accuracy in {results}:{number}. Received: {row}"
                ) from None
    losses, accuracies = {}, {}
    for model in runs["models"]:
        seeds = [sorted(table[model][s]) for s in sorted(table.get(model, {}))]
        losses[model] = np.array([[e[1] for e in seed] for seed in seeds])
        accuracies[model] = np.array([[e[2] for e in seed] for seed in seeds])
    return losses, accuracies, runs


def _reach(accuracy: np.ndarray) -> float:
    smoothed = np.convolve(accuracy, np.ones(WINDOW) / WINDOW, mode="valid")
    hits = np.nonzero(smoothed >= TARGET_ACCURACY)[0]
    return float(hits[0] + WINDOW) if len(hits) else math.nan


def summarise(losses: dict[str, np.ndarray], accuracies: dict[str, np.ndarray], runs: dict[str, Any]) -> list[Summary]:
    out = []
    for model, loss in losses.items():
        seeds, last = loss.shape[0], min(50, loss.shape[1])
        test = np.array([runs["test_accuracy"][f"{model}|{s}"] for s in range(seeds)])
        out.append(
            Summary(
                model,
                loss[:, -last:].mean(axis=1),
                accuracies[model][:, -last:].mean(axis=1),
                test,
                np.array([_reach(a) for a in accuracies[model]]),
                runs["parameters"][model],
            )
        )
    return out


def groups(runs: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparison's groups of models compared with each other (a stacked comparison is one group)."""
    if "groups" in runs:
        return list(runs["groups"])
    return [{"title": None, "task": "cumsum", "models": runs["models"]}]


def _fmt(mean: float, half: float, digits: int = 3) -> str:
    return f"{mean:.{digits}f} ± {half:.{digits}f}" if not math.isnan(half) else f"{mean:.{digits}f}"


def conclusions(summaries: list[Summary]) -> list[str]:
    """Plain sentences that follow from the pairwise tests on the final loss (lower is better)."""
    lines = []
    for a, b in itertools.combinations(summaries, 2):
        p, d = welch(a.final_loss, b.final_loss)
        better, worse = (a, b) if a.final_loss.mean() < b.final_loss.mean() else (b, a)
        if p < 0.05:
            lines.append(
                f"- {better.model} ends with a lower loss than {worse.model} ({better.final_loss.mean():.3f} vs "
                f"{worse.final_loss.mean():.3f} over the last updates; Welch p = {p:.2g}, |d| = {abs(d):.1f})."
            )
        else:
            lines.append(
                f"- No significant difference between {a.model} and {b.model} in final loss ({a.final_loss.mean():.3f} "
                f"vs {b.final_loss.mean():.3f}; p = {p:.2g}): with these seeds the data do not separate them."
            )
    return lines


def summary_rows(summaries: list[Summary]) -> list[dict[str, Any]]:
    """One row per model for summary.csv: counts as integers, figures as floats (nan where undefined)."""
    rows: list[dict[str, Any]] = []
    for s in summaries:
        loss, loss_ci = mean_ci(s.final_loss)
        acc, acc_ci = mean_ci(s.final_accuracy)
        test, test_ci = mean_ci(s.test_accuracy)
        reach, _ = mean_ci(s.updates_to_target)
        rows.append(
            {
                "model": s.model,
                "seeds": len(s.final_loss),
                "final_loss": loss,
                "final_loss_ci95": loss_ci,
                "final_accuracy": acc,
                "final_accuracy_ci95": acc_ci,
                "test_accuracy": test,
                "test_accuracy_ci95": test_ci,
                "updates_to_target": reach,
                "reached_target": int(np.sum(~np.isnan(s.updates_to_target))),
                "parameters": int(s.parameters),
            }
        )
    return rows


def write_summary_csv(directory: Path, summaries: list[Summary]) -> None:
    write_csv(directory / "summary.csv", summary_rows(summaries))


def _stacked_description(runs: dict[str, Any], seeds: int) -> str:
    spec = runs["spec"]
    return (
        f"{runs['runs']} runs ({seeds} seeds per model), each {spec['updates']} Adam updates (learning rate "
        f"{spec['learning_rate']}) on one fresh cumulative-sum sequence of {spec['steps']} steps per update. Seed s "
        f"gives every model the same initial-weight seed and the same sequences. All runs trained together in "
        f"{runs['training_seconds']:.1f} s (after three warm-up updates). Final = mean over the last 50 updates; "
        f"± is a 95 % confidence interval over seeds; test = per-step accuracy on {spec['test_size']} fresh sequences."
    )


def _group_description(group: dict[str, Any], runs: dict[str, Any], seeds: int) -> str:
    budgets = {tuple(sorted(t.items())) for t in group["training"].values()}
    training = "; ".join(
        f"{t['updates']} Adam updates of {t['batch_size']} fresh example{'s' if t['batch_size'] > 1 else ''} "
        f"(learning rate {t['learning_rate']})"
        for t in (dict(b) for b in sorted(budgets))
    )
    options = ", ".join(f"{k}={v}" for k, v in group["task_options"].items())
    return (
        f"Task `{group['task']}`{f' ({options})' if options else ''}: {seeds} seeds per model, each {training}. "
        f"Seed s gives every model the same initial-weight seed, training examples and test set. Final = mean over "
        f"the last 50 updates; ± is a 95 % confidence interval over seeds; test = accuracy on "
        f"{runs['spec']['test_size']} fresh examples; train s = median training time of one run "
        f"({runs['spec']['workers']} run{'s' if runs['spec']['workers'] > 1 else ''} at a time, one thread each); "
        f"latency = median time to predict one sequence (batch 1)."
    )


def _table(summaries: list[Summary], runs: dict[str, Any], seeds: int) -> list[str]:
    measured = "latency_ms" in runs
    extra = " train s | latency ms | can stream |" if measured else ""
    lines = [
        f"| model | final loss | final accuracy | test accuracy | updates to {TARGET_ACCURACY:.0%} | parameters |"
        + extra,
        "|---|---|---|---|---|---|" + ("---|---|---|" if measured else ""),
    ]
    for s in summaries:
        reach, reach_ci = mean_ci(s.updates_to_target)
        reached = int(np.sum(~np.isnan(s.updates_to_target)))
        reach_text = "not reached" if reached == 0 else f"{_fmt(reach, reach_ci, 0)} ({reached}/{seeds} seeds)"
        row = (
            f"| {s.model} | {_fmt(*mean_ci(s.final_loss))} | {_fmt(*mean_ci(s.final_accuracy))} | "
            f"{_fmt(*mean_ci(s.test_accuracy))} | {reach_text} | {s.parameters:,} |"
        )
        if measured:
            row += (
                f" {runs['run_seconds'][s.model]:.1f} | {runs['latency_ms'][s.model]:.2f} | "
                f"{runs['streams'][s.model]} |"
            )
        lines.append(row)
    return lines


def _pairwise(summaries: list[Summary]) -> list[str]:
    lines = [
        "| A | B | mean A - B | p | Cohen's d |",
        "|---|---|---|---|---|",
    ]
    for a, b in itertools.combinations(summaries, 2):
        p, d = welch(a.final_loss, b.final_loss)
        lines.append(
            f"| {a.model} | {b.model} | {a.final_loss.mean() - b.final_loss.mean():+.3f} | {p:.2g} | {d:+.2f} |"
        )
    return lines


def tied_with_best(summaries: list[Summary]) -> tuple[Summary, list[Summary]]:
    """The model with the best mean test accuracy, and those not significantly below it (Welch p >= 0.05)."""
    best = max(summaries, key=lambda s: float(s.test_accuracy.mean()))
    tied = []
    for s in summaries:
        if s is best:
            tied.append(s)
            continue
        same = np.allclose(s.test_accuracy, best.test_accuracy)
        p, _ = welch(best.test_accuracy, s.test_accuracy) if not same else (1.0, 0.0)
        if same or math.isnan(p) or p >= 0.05:
            tied.append(s)
    return best, tied


def which_model_when(by_group: list[tuple[dict[str, Any], list[Summary]]], runs: dict[str, Any]) -> list[str]:
    """One row per situation: the model with the best test accuracy, with those the seeds cannot separate from it
    (Welch p >= 0.05) and what they save; and, where some models cannot stream, the best model that can."""

    def figures(s: Summary) -> str:
        return f"{s.parameters:,} parameters, {runs['latency_ms'][s.model]:.2f} ms per sequence"

    lines = ["| when | choose | measured |", "|---|---|---|"]
    for group, summaries in by_group:
        best, tied = tied_with_best(summaries)
        why = f"best mean test accuracy ({_fmt(*mean_ci(best.test_accuracy))}), {figures(best)}"
        for other in tied:
            if other is best:
                continue
            p, _ = welch(best.test_accuracy, other.test_accuracy)
            cheaper = [
                text
                for text, smaller in (
                    ("faster", runs["latency_ms"][other.model] < runs["latency_ms"][best.model]),
                    ("smaller", other.parameters < best.parameters),
                )
                if smaller
            ]
            why += (
                f"; {other.model} is not separable from it ({_fmt(*mean_ci(other.test_accuracy))}, "
                f"{f'p = {p:.2g}' if not math.isnan(p) else 'identical scores'})"
                + (f" and {' and '.join(cheaper)} ({figures(other)})" if cheaper else "")
            )
        title = group["title"] or group["task"]
        lines.append(f"| {title}, whole sequence available | {best.model} | {why} |")
        streaming = [s for s in summaries if runs["streams"][s.model].startswith("yes")]
        if streaming and len(streaming) < len(summaries):
            live = max(streaming, key=lambda s: float(s.test_accuracy.mean()))
            p, _ = welch(best.test_accuracy, live.test_accuracy)
            gap = float(best.test_accuracy.mean() - live.test_accuracy.mean())
            how = runs["streams"][live.model].split(": ", 1)[-1]
            why = (
                f"the best that streams ({how}): test accuracy {_fmt(*mean_ci(live.test_accuracy))}, "
                f"{figures(live)}; {gap:.3f} below {best.model}"
                f"{f' (p = {p:.2g})' if not math.isnan(p) else ''}"
            )
            for other in streaming:
                if other is not live:
                    why += f"; {other.model}: {_fmt(*mean_ci(other.test_accuracy))}"
            lines.append(f"| {title}, each answer needed as its value arrives | {live.model} | {why} |")
    return lines


def _by_point(cells: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """runs.json's grid cells gathered by point, in grid order."""
    out: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for cell in cells:
        out.setdefault(point_label(cell["point"]), (cell["point"], []))[1].append(cell)
    return list(out.values())


@dataclass(frozen=True)
class Report:
    """A written report: where it is, and its conclusions as text (the "Which model when" section where the
    comparison has one, else the conclusions)."""

    path: Path
    summary: str


@dataclass(frozen=True)
class Cell:
    """One model at one grid point: its figures over seeds, and its validation figures (what a point is chosen on)."""

    model: str
    point: dict[str, Any]
    summary: Summary
    validation_accuracy: np.ndarray  # per seed
    validation_loss: np.ndarray

    @property
    def where(self) -> str:
        return point_label(self.point)


def grid_cells(summaries: list[Summary], runs: dict[str, Any]) -> list[Cell]:
    """The cells of a grid comparison, in runs.json's order (model by model, the points in grid order)."""
    by_name = {s.model: s for s in summaries}
    cells = []
    for cell in runs["grid"]["cells"]:
        s = by_name[cell["label"]]
        seeds = range(len(s.test_accuracy))
        validation = [np.array([runs[f][f"{cell['label']}|{i}"] for i in seeds]) for f in VALIDATION_FIGURES]
        cells.append(Cell(cell["model"], cell["point"], s, *validation))
    return cells


VALIDATION_FIGURES = ("validation_accuracy", "validation_loss")


def best_point(cells: list[Cell]) -> Cell:
    """The cell with the best mean validation accuracy (ties: the lower mean validation loss, then the first):
    chosen on validation figures only, never on the test set.

    Example:
        >>> best_point([cell for cell in cells if cell.model == "forward LSTM"]).where
        'learning_rate=0.01'
    """
    return min(cells, key=lambda c: (-float(c.validation_accuracy.mean()), float(c.validation_loss.mean())))


def _versus(a: np.ndarray, b: np.ndarray) -> tuple[float, str]:
    """Welch's p for a - b, and it as text ("identical scores" where it is undefined)."""
    p = 1.0 if np.allclose(a, b) else welch(a, b)[0]
    return p, "identical scores" if np.allclose(a, b) else f"Welch p = {p:.2g}"


def matched_tuning(best: list[Cell]) -> list[str]:
    """Sentences comparing every two models, each at its own best point (test accuracy, Welch's t-test)."""
    lines = []
    for a, b in itertools.combinations(best, 2):
        higher, lower = (a, b) if a.summary.test_accuracy.mean() >= b.summary.test_accuracy.mean() else (b, a)
        p, test = _versus(higher.summary.test_accuracy, lower.summary.test_accuracy)
        figures = (
            f"{_fmt(*mean_ci(higher.summary.test_accuracy))} at {higher.where} vs "
            f"{_fmt(*mean_ci(lower.summary.test_accuracy))} at {lower.where}; {test}"
        )
        if p < 0.05:
            lines.append(f"- At matched tuning {higher.model} scores higher than {lower.model} ({figures}).")
        else:
            lines.append(f"- At matched tuning the seeds cannot separate {higher.model} and {lower.model} ({figures}).")
    return lines


def leaders(cells: list[Cell], models: list[str], points: list[dict[str, Any]]) -> list[str]:
    """Per grid point, the model with the best mean test accuracy and how far the next one is; and a sentence when
    the leader changes with the point (a comparison at one setting would mislead)."""
    lines, leading = [], []
    for point in points:
        here = sorted((c for c in cells if c.point == point), key=lambda c: -float(c.summary.test_accuracy.mean()))
        first, second = here[0], here[1]
        p, test = _versus(first.summary.test_accuracy, second.summary.test_accuracy)
        separable = "" if p < 0.05 else ", not separable by these seeds"
        lines.append(
            f"- At {point_label(point)}: {first.model} leads ({_fmt(*mean_ci(first.summary.test_accuracy))} vs "
            f"{second.model} {_fmt(*mean_ci(second.summary.test_accuracy))}; {test}{separable})."
        )
        leading.append(first.model)
    if len(set(leading)) > 1:
        where = "; ".join(
            f"{m} at {', '.join(point_label(pt) for pt, lead in zip(points, leading, strict=True) if lead == m)}"
            for m in dict.fromkeys(leading)
        )
        lines.append(
            f"- The leader changes with the settings ({where}): a comparison at one setting can mislead; the "
            "models at their own best points (above) are compared at matched tuning."
        )
    else:
        lines.append(f"- {leading[0]} leads at every point of the grid.")
    return lines


def _cell_table(cells: list[Cell], chosen: Cell, seeds: int) -> list[str]:
    lines = [
        f"| point | validation accuracy | test accuracy | final loss | updates to {TARGET_ACCURACY:.0%} |",
        "|---|---|---|---|---|",
    ]
    for c in cells:
        reached = int(np.sum(~np.isnan(c.summary.updates_to_target)))
        reach = mean_ci(c.summary.updates_to_target)
        reach_text = "not reached" if reached == 0 else f"{_fmt(*reach, 0)} ({reached}/{seeds} seeds)"
        mark = " (chosen)" if c is chosen else ""
        lines.append(
            f"| {c.where}{mark} | {_fmt(*mean_ci(c.validation_accuracy))} | {_fmt(*mean_ci(c.summary.test_accuracy))} "
            f"| {_fmt(*mean_ci(c.summary.final_loss))} | {reach_text} |"
        )
    return lines


def _point_matrix(cells: list[Cell], models: list[str], points: list[dict[str, Any]]) -> list[str]:
    """Test accuracy of every model (columns) at every point (rows); the leader of each row in bold."""
    lines = ["| point | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for point in points:
        row = {c.model: c for c in cells if c.point == point}
        top = max(models, key=lambda m: float(row[m].summary.test_accuracy.mean()))
        texts = [_fmt(*mean_ci(row[m].summary.test_accuracy)) for m in models]
        texts = [f"**{t}**" if m == top else t for m, t in zip(models, texts, strict=True)]
        lines.append(f"| {point_label(point)} | " + " | ".join(texts) + " |")
    return lines


def grid_rows(cells: list[Cell], best: dict[str, Cell]) -> list[dict[str, Any]]:
    """One row per model and point for grid.csv: the point's settings, validation and test figures, chosen or not."""
    rows = []
    for c in cells:
        test, test_ci = mean_ci(c.summary.test_accuracy)
        rows.append(
            {
                "model": c.model,
                **c.point,
                "validation_accuracy": float(c.validation_accuracy.mean()),
                "validation_loss": float(c.validation_loss.mean()),
                "test_accuracy": test,
                "test_accuracy_ci95": test_ci,
                "chosen": int(best[c.model] is c),
            }
        )
    return rows


def _grid_description(runs: dict[str, Any], seeds: int, cells: list[Cell]) -> str:
    grid = runs["grid"]
    axes = "; ".join(f"{key} = {', '.join(map(_text, values))}" for key, values in grid["axes"])
    points = len(cells) // len(grid["models"])
    if "groups" in runs:
        group = runs["groups"][0]
        options = ", ".join(f"{k}={v}" for k, v in group["task_options"].items())
        task = f"task `{group['task']}`{f' ({options})' if options else ''}, each run an ordinary training run"
        defaults = "; ".join(
            sorted(
                {
                    f"{t['updates']} updates of {t['batch_size']}, learning rate {t['learning_rate']:g}"
                    for t in group["training"].values()
                }
            )
        )
        test = f"{runs['spec']['test_size']} fresh examples per seed"
    else:
        spec = runs["spec"]
        task = f"the cumulative-sum problem ({spec['steps']} steps), all runs of equal size trained in one stack"
        defaults = "; ".join(
            sorted(
                {
                    f"{t['updates']} updates of {t['batch_size']}, learning rate {t['learning_rate']:g}"
                    for t in grid["training"].values()
                }
            )
        )
        test = f"{spec['test_size']} fresh sequences, the same for every run"
    return (
        f"Grid: {axes} ({points} point{'s' if points > 1 else ''}). {runs['runs']} runs: {len(grid['models'])} models "
        f"x {points} points x {seeds} seeds on {task}, {runs['training_seconds']:.1f} s of training. Settings per "
        f"run: {defaults}. Seed s gives every model at every point the same initial-weight seed and the same "
        f"training data. Each model's best point is chosen on its mean validation accuracy ({grid['validation']}, "
        f"never the test set); test accuracy ({test}) is reported at that point, ± a 95 % confidence interval over "
        "seeds."
    )


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _grid_report(directory: Path, summaries: list[Summary], runs: dict[str, Any], seeds: int) -> tuple[str, str]:
    """The report of a grid comparison (the text, and its summary for the command line); writes grid.csv and
    grid.png."""
    cells = grid_cells(summaries, runs)
    models = list(runs["grid"]["models"])
    points = list(dict.fromkeys(point_label(c.point) for c in cells))
    point_dicts = [next(c.point for c in cells if point_label(c.point) == p) for p in points]
    best = {m: best_point([c for c in cells if c.model == m]) for m in models}
    write_csv(directory / "grid.csv", grid_rows(cells, best))
    axes = [(key, list(values)) for key, values in runs["grid"]["axes"]]
    drawn = plot_grid(
        directory / "grid.png",
        cells=[(c.model, c.point, c.summary.test_accuracy, c.validation_accuracy) for c in cells],
        models=models,
        axes=axes,
        chosen={m: b.point for m, b in best.items()},
        title=runs["comparison"],
    )
    lines = [f"# Comparison: {runs['comparison']}, on a grid", "", _grid_description(runs, seeds, cells), ""]
    lines += [
        "## Each model at its best point",
        "",
        "| model | best point (validation) | validation accuracy | test accuracy | final loss | parameters |",
        "|---|---|---|---|---|---|",
    ]
    for m in models:
        b = best[m]
        lines.append(
            f"| {m} | {b.where} | {_fmt(*mean_ci(b.validation_accuracy))} | {_fmt(*mean_ci(b.summary.test_accuracy))} "
            f"| {_fmt(*mean_ci(b.summary.final_loss))} | {b.summary.parameters:,} |"
        )
    summary_lines = [*matched_tuning([best[m] for m in models]), *leaders(cells, models, point_dicts)]
    lines += ["", "## Conclusions", "", *summary_lines, ""]
    lines += ["## Test accuracy at each point", "", *_point_matrix(cells, models, point_dicts), ""]
    lines += ["## Each model at each point", ""]
    for m in models:
        lines += [f"### {m}", "", *_cell_table([c for c in cells if c.model == m], best[m], seeds), ""]
    if "latency_ms" in runs:
        by_group = [
            (g, [best[m].summary for m in models if best[m].summary.model in g["models"]]) for g in groups(runs)
        ]
        lines += [
            "## Which model when",
            "",
            "Each model at its best point: the best mean test accuracy, the models the seeds cannot separate from it "
            "(Welch p >= 0.05) and what they save, and where some can stream, the best of those.",
            "",
            *which_model_when(by_group, runs),
            "",
        ]
    if drawn:
        lines += ["![grid](grid.png)", ""]
    lines += ["![curves](curves.png)", ""]
    return "\n".join(lines), "\n".join(summary_lines)


def write_task_report(directory: Path, *, smooth: int = SMOOTH) -> Report:
    """summary.csv, curves.png and report.md from the comparison's results.csv and runs.json; with a grid also
    grid.csv and grid.png (the curves then one row of panels per point).

    Raises:
        ValueError: `directory` lacks results.csv or runs.json, or a row of results.csv is malformed.

    Example:
        >>> write_task_report(Path("comparisons/lr")).path
        PosixPath('comparisons/lr/report.md')
    """
    losses, accuracies, runs = load_results(directory)
    summaries = summarise(losses, accuracies, runs)
    write_summary_csv(directory, summaries)
    seeds = len(summaries[0].final_loss)
    if "grid" in runs:
        panels = [
            {"title": point_label(p), "task": groups(runs)[0]["task"], "models": [c["label"] for c in cells]}
            for p, cells in _by_point(runs["grid"]["cells"])
        ]
        plot_curves(
            directory / "curves.png", losses, accuracies, groups=panels, title=runs["comparison"], smooth=smooth
        )
        text, summary = _grid_report(directory, summaries, runs, seeds)
        path = directory / "report.md"
        atomic_write(path, text.encode())
        return Report(path, summary)
    plot_curves(
        directory / "curves.png", losses, accuracies, groups=groups(runs), title=runs["comparison"], smooth=smooth
    )
    by_name = {s.model: s for s in summaries}
    by_group = [(g, [by_name[m] for m in g["models"]]) for g in groups(runs)]
    lines = [f"# Comparison: {runs['comparison']}", ""]
    if "groups" in runs:
        lines += [
            f"{runs['runs']} runs in {runs['training_seconds']:.1f} s of wall time. Models are compared only with "
            "models of their own group (same task).",
            "",
        ]
    for group, members in by_group:
        if "groups" in runs:
            if len(by_group) > 1:
                lines += [f"## {group['title'] or group['task']}", ""]
            lines += [_group_description(group, runs, seeds), ""]
        else:
            lines += [_stacked_description(runs, seeds), ""]
        level = "###" if len(by_group) > 1 else "##"
        lines += _table(members, runs, seeds)
        lines += ["", f"{level} Pairwise tests (final loss, Welch's t-test)", "", *_pairwise(members)]
        lines += ["", f"{level} Conclusions", "", *conclusions(members), ""]
    if any("Keras order" in s.model for s in summaries):
        lines += [
            "About the Keras-order backward model: with `go_backwards=True` and `return_sequences=True`, Keras returns "
            "the outputs in reading order, so output t belongs to input step T-1-t while it is scored against the "
            "label of step t. The aligned backward model puts each output back beside its own step; the difference "
            "between the two curves is the cost of that mismatch, not of reading backwards.",
            "",
        ]
    if "latency_ms" in runs:
        lines += [
            "## Which model when",
            "",
            "Drawn from the numbers above: within each group, the model with the best mean test accuracy, the models "
            "the seeds cannot separate from it (Welch p >= 0.05) and what they save, and where a group has models "
            "that can stream, the best of those.",
            "",
            *which_model_when(by_group, runs),
            "",
        ]
    lines += ["![curves](curves.png)", ""]
    path = directory / "report.md"
    text = "\n".join(lines)
    atomic_write(path, text.encode())
    section = "## Which model when" if "## Which model when" in text else "Conclusions"
    return Report(path, text.split(section, 1)[1].split("![")[0].strip())
