"""From a comparison's CSV to its summary, curves and report: reads only `results.csv` and `runs.json`."""

from __future__ import annotations

import csv
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats  # type: ignore[import-untyped]

from .runs import atomic_write, write_history

__all__ = ["Summary", "load_results", "summarise", "write_report"]

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
    last = min(50, next(iter(losses.values())).shape[1])
    out = []
    for model, loss in losses.items():
        seeds = loss.shape[0]
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


def mean_ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of its 95 % confidence interval (Student t)."""
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return (float(values.mean()) if len(values) else math.nan), math.nan
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return float(values.mean()), float(half)


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Welch's t-test p-value and Cohen's d (pooled standard deviation) for a - b."""
    p = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    pooled = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    return p, (float(a.mean() - b.mean()) / pooled) if pooled > 0 else math.inf


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


def write_summary_csv(directory: Path, summaries: list[Summary], runs: dict[str, Any]) -> None:
    rows: list[dict[str, Any]] = []
    for s in summaries:
        loss, loss_ci = mean_ci(s.final_loss)
        acc, acc_ci = mean_ci(s.final_accuracy)
        test, test_ci = mean_ci(s.test_accuracy)
        reach, _ = mean_ci(s.updates_to_target)
        rows.append(
            {
                "model": s.model,
                "seeds": float(len(s.final_loss)),
                "final_loss": loss,
                "final_loss_ci95": loss_ci,
                "final_accuracy": acc,
                "final_accuracy_ci95": acc_ci,
                "test_accuracy": test,
                "test_accuracy_ci95": test_ci,
                "updates_to_target": reach,
                "reached_target": float(np.sum(~np.isnan(s.updates_to_target))),
                "parameters": float(s.parameters),
            }
        )
    write_history(directory / "summary.csv", rows)


def write_report(directory: Path, *, smooth: int = 10) -> Path:
    """summary.csv, curves.png and report.md from the comparison's results.csv and runs.json."""
    losses, accuracies, runs = load_results(directory)
    summaries = summarise(losses, accuracies, runs)
    write_summary_csv(directory, summaries, runs)
    plot_curves(directory / "curves.png", losses, accuracies, runs, smooth)
    spec = runs["spec"]
    seeds = len(summaries[0].final_loss)
    lines = [
        f"# Comparison: {runs['comparison']}",
        "",
        f"{runs['runs']} runs ({seeds} seeds per model), each {spec['updates']} Adam updates (learning rate "
        f"{spec['learning_rate']}) on one fresh cumulative-sum sequence of {spec['steps']} steps per update. Seed s "
        f"gives every model the same initial-weight seed and the same sequences. All runs trained together in "
        f"{runs['training_seconds']:.1f} s. Final = mean over the last 50 updates; ± is a 95 % confidence interval "
        f"over seeds; test = per-step accuracy on {spec['test_size']} fresh sequences.",
        "",
        f"| model | final loss | final accuracy | test accuracy | updates to {TARGET_ACCURACY:.0%} | parameters |",
        "|---|---|---|---|---|---|",
    ]
    for s in summaries:
        reach, reach_ci = mean_ci(s.updates_to_target)
        reached = int(np.sum(~np.isnan(s.updates_to_target)))
        reach_text = "not reached" if reached == 0 else f"{_fmt(reach, reach_ci, 0)} ({reached}/{seeds} seeds)"
        lines.append(
            f"| {s.model} | {_fmt(*mean_ci(s.final_loss))} | {_fmt(*mean_ci(s.final_accuracy))} | "
            f"{_fmt(*mean_ci(s.test_accuracy))} | {reach_text} | {s.parameters:,} |"
        )
    lines += [
        "",
        "## Pairwise tests (final loss, Welch's t-test)",
        "",
        "| A | B | mean A - B | p | Cohen's d |",
        "|---|---|---|---|---|",
    ]
    for a, b in itertools.combinations(summaries, 2):
        p, d = welch(a.final_loss, b.final_loss)
        lines.append(
            f"| {a.model} | {b.model} | {a.final_loss.mean() - b.final_loss.mean():+.3f} | {p:.2g} | {d:+.2f} |"
        )
    lines += ["", "## Conclusions", "", *conclusions(summaries)]
    if any("Keras order" in s.model for s in summaries):
        lines += [
            "",
            "About the Keras-order backward model: with `go_backwards=True` and `return_sequences=True`, Keras returns "
            "the outputs in reading order, so output t belongs to input step T-1-t while it is scored against the "
            "label of step t. The aligned backward model puts each output back beside its own step; the difference "
            "between the two curves is the cost of that mismatch, not of reading backwards.",
        ]
    lines += ["", "![curves](curves.png)", ""]
    path = directory / "report.md"
    atomic_write(path, "\n".join(lines).encode())
    return path


def plot_curves(
    path: Path, losses: dict[str, np.ndarray], accuracies: dict[str, np.ndarray], runs: dict[str, Any], smooth: int
) -> None:
    """Mean over seeds with a 95 % confidence band, log loss and accuracy per update."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for model, loss in losses.items():
        for axis, curves in ((axes[0], loss), (axes[1], accuracies[model])):
            if smooth > 1:
                kernel = np.ones(smooth) / smooth
                curves = np.array([np.convolve(c, kernel, mode="valid") for c in curves])
            x = np.arange(curves.shape[1]) + (smooth if smooth > 1 else 1)
            mean = curves.mean(axis=0)
            half = stats.t.ppf(0.975, curves.shape[0] - 1) * curves.std(axis=0, ddof=1) / math.sqrt(curves.shape[0])
            (line,) = axis.plot(x, mean, label=model, linewidth=1.8)
            axis.fill_between(x, mean - half, mean + half, color=line.get_color(), alpha=0.2)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("log loss (binary cross-entropy)")
    axes[1].set_ylabel("accuracy (per step)")
    for axis in axes:
        axis.set_xlabel("update")
        axis.grid(alpha=0.3)
    axes[1].legend(loc="lower right")
    seeds = next(iter(losses.values())).shape[0]
    smoothing = f", moving average of {smooth} updates" if smooth > 1 else ""
    figure.suptitle(f"{runs['comparison']}: mean of {seeds} seeds with 95 % confidence band{smoothing}")
    figure.tight_layout()
    temporary = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(temporary, dpi=120)
    plt.close(figure)
    temporary.replace(path)
