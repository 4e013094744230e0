"""`lstmlab inspect`'s PNG figures, drawn from the inspection's JSON document (`document.py`) alone, so a saved
`inspection.json` redraws them: the LSTM values over a sequence (gates.png), its attributions as coloured text
(attributions.png), and, when the document holds statistics, the gates' saturation (saturation.png) and the gradient
by distance (gradient.png).

Each `draw_*` returns the matplotlib Figure (the tests read its ticks and colour limits); each `*_figure` draws and
writes it atomically as PNG. Figures keep a bounded size however long the input: a few thousand steps give an image
at most `MAX_WIDTH` inches wide (2400 px at the 120 dpi `save_figure` writes).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..atomic import pyplot, save_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MAX_LABELS",
    "MAX_TEXT_TOKENS",
    "attributions_figure",
    "draw_attributions",
    "draw_gates",
    "draw_gradient",
    "draw_saturation",
    "gates_figure",
    "gradient_figure",
    "label_steps",
    "saturation_figure",
    "wrap_tokens",
    "write_figures",
]

MAX_LABELS = 60  # tick labels on a step axis at most: more would overlap on a 2400 px image
MAX_TEXT_TOKENS = 400  # tokens drawn as text at most; the line plot below shows every position
MAX_WIDTH, MAX_HEIGHT = 20.0, 40.0  # inches (2400 x 4800 px at 120 dpi)
# gates.png's layout, in inches: the figure's title; per direction, its title, step numbers, tick labels and the
# space after; between panels; the margins that hold the units' labels and the colourbars
GATES_TITLE, GATES_BLOCK, GATES_GAP = 0.5, 0.75 + 1.0, 0.1
GATES_LEFT, GATES_RIGHT = 0.9, 0.8
LABEL_CHARACTERS = 12  # a token longer than this is cut, with an ellipsis, where it labels a tick
TEXT_CHARACTERS = 24  # ... where it is drawn as a word
TRUSTED_COUNT = 5  # fewer sequences than this at a distance give a mean too noisy to read
SATURATED = (0.1, 0.9)  # a gate below the first is left-saturated, above the second right-saturated
SATURATION_GATES = ("input_gate", "forget_gate", "output_gate")  # the gates a saturation plot shows
# (colour map, limits); None: symmetric about 0 over the values' own range
SCALES: dict[str, tuple[str, tuple[float, float] | None]] = {
    "input_gate": ("viridis", (0.0, 1.0)),
    "forget_gate": ("viridis", (0.0, 1.0)),
    "output_gate": ("viridis", (0.0, 1.0)),
    "candidate": ("RdBu_r", (-1.0, 1.0)),
    "hidden": ("RdBu_r", (-1.0, 1.0)),
    "cell": ("PuOr_r", None),
}
FONT_SIZE = 11  # the attribution text's
CHARACTER_WIDTH = 0.61  # DejaVu Sans Mono's advance (0.602 em), with a little room
LINE_HEIGHT = 0.27  # inches per line of attribution text
METHOD_NAMES = {"integrated_gradients": "Integrated Gradients", "occlusion": "Occlusion"}


def label_steps(count: int, most: int = MAX_LABELS) -> list[int]:
    """The steps of a `count`-step axis that get a tick label: all of them, or `most` evenly spaced from the first
    to the last.

    Example:
        >>> label_steps(5)
        [0, 1, 2, 3, 4]
        >>> label_steps(100, most=5)
        [0, 25, 50, 74, 99]
    """
    if count <= most:
        return list(range(count))
    return sorted({round(s) for s in np.linspace(0, count - 1, most)})


def wrap_tokens(lengths: Sequence[int], width: int) -> list[list[int]]:
    """Greedy line breaking: the indices of the words on each line, each word taking its length and one space, no
    line wider than `width` characters unless one word alone is.

    Example:
        >>> wrap_tokens([3, 3, 3, 5], 8)
        [[0, 1], [2], [3]]
    """
    lines: list[list[int]] = [[]]
    used = 0
    for index, length in enumerate(lengths):
        if lines[-1] and used + length > width:
            lines.append([])
            used = 0
        lines[-1].append(index)
        used += length + 1
    return lines if lines[0] else []


def _sequence(document: dict[str, Any], sequence: int) -> dict[str, Any]:
    found: list[dict[str, Any]] = document["sequences"]
    if not 0 <= sequence < len(found):
        raise ValueError(f"Expected sequence in [0, {len(found)}). Received: sequence={sequence}")
    return found[sequence]


def _cut(token: str, most: int) -> str:
    return token if len(token) <= most else token[: most - 1] + "…"


def _prediction(found: dict[str, Any]) -> str:
    probability = found["probabilities"].get(found["prediction"])
    shown = "" if probability is None else f" ({probability:.0%})"
    step = "" if found.get("steps") is None else f" at step {found['steps']['target_step']}"
    return f"predicted {found['prediction']}{shown}{step}, target {found['target']}"


# gates.png


def draw_gates(document: dict[str, Any], *, sequence: int = 0) -> Figure:
    """The six LSTM quantities of each layer and direction over one sequence, as heatmaps.

    Units run down the y axis, steps along the x axis labelled by their tokens (`MAX_LABELS` of them at most, evenly
    chosen, for longer inputs). Gates are on [0, 1], candidate and hidden on [-1, 1], the cell on a scale symmetric
    about 0 over its own range; each panel has its colourbar.

    Args:
        document: an inspection's JSON (`document.document`).
        sequence: which of its sequences.

    Raises:
        ValueError: `sequence` is not one of the document's, or the model has no LSTM direction.
    """
    found = _sequence(document, sequence)
    directions: list[dict[str, Any]] = document["directions"]
    if not directions:
        raise ValueError("Expected a document with at least one LSTM direction. Received: none")
    quantities: list[str] = document["quantities"]
    steps = len(found["tokens"])
    width = min(MAX_WIDTH, max(9.0, 3.0 + 0.2 * steps))
    fixed = GATES_TITLE + len(directions) * (GATES_BLOCK + (len(quantities) - 1) * GATES_GAP)
    natural = min(1.5, max(0.9, 0.5 + 0.04 * max(d["units"] for d in directions)))
    panel = max(0.25, min(natural, (MAX_HEIGHT - fixed) / (len(directions) * len(quantities))))
    block = GATES_BLOCK + len(quantities) * panel + (len(quantities) - 1) * GATES_GAP
    plt = pyplot()
    figure: Figure = plt.figure(figsize=(width, min(MAX_HEIGHT, GATES_TITLE + len(directions) * block)))
    top = figure.get_size_inches()[1] - GATES_TITLE
    for direction in directions:
        values = found["layers"][direction["layer"]][direction["direction"]]
        _draw_direction(figure, (top, panel), direction, values, quantities, found)
        top -= block
    labelled = len(label_steps(steps))
    note = "" if labelled == steps else f"; {labelled} of the {steps} tokens labelled, evenly spaced"
    unknown = "; grey labels: not in the vocabulary" if not all(found.get("known", [True])) else ""
    explained = "; dotted: the step explained" if found.get("steps") is not None else ""
    figure.suptitle(
        f"{document['model']}, sequence {sequence}: {steps} steps, {_prediction(found)}{note}{unknown}{explained}",
        fontsize=11,
        y=1 - 0.15 / figure.get_size_inches()[1],
        va="top",
    )
    return figure


def _draw_direction(
    figure: Figure,
    place: tuple[float, float],
    direction: dict[str, Any],
    values: dict[str, list[list[float]]],
    quantities: list[str],
    found: dict[str, Any],
) -> None:
    """One direction's block of panels, from `place`'s top (inches from the bottom), each panel `place[1]` high."""
    top, panel = place
    width = figure.get_size_inches()[0]
    figure.text(0.5, (top - 0.05) / figure.get_size_inches()[1], _direction_title(direction), ha="center", va="top")
    top -= 0.75  # the title and the step numbers above the first panel
    axes = []
    for quantity in quantities:
        top -= panel
        axis = _add_axes(figure, (GATES_LEFT, top, width - GATES_LEFT - GATES_RIGHT, panel))
        bar = _add_axes(figure, (width - GATES_RIGHT + 0.1, top, 0.12, panel))
        _heatmap(figure, axis, bar, quantity, np.asarray(values[quantity], dtype=np.float64).T)  # (H, n)
        if found.get("steps") is not None:
            axis.axvline(found["steps"]["target_step"], color="black", linewidth=0.8, linestyle=":")
        axis.tick_params(axis="x", labelbottom=False)
        axes.append(axis)
        top -= GATES_GAP
    _label_tokens(axes[-1], found["tokens"], found.get("known"))
    numbers = axes[0].secondary_xaxis("top")
    numbers.tick_params(labelsize=7)
    numbers.set_xlabel("step", fontsize=8)


def _direction_title(direction: dict[str, Any]) -> str:
    return f"{direction['layer']}, {direction['direction']} ({direction['units']} units)"


def _heatmap(figure: Figure, axis: Axes, bar: Axes, quantity: str, values: np.ndarray) -> None:
    """`values` (H, n) on `axis`, its colour scale on `bar`."""
    from matplotlib.ticker import MaxNLocator

    colours, limits = SCALES.get(quantity, ("RdBu_r", None))
    if limits is None:
        limits = (-_reach(values), _reach(values))
    image = axis.imshow(values, aspect="auto", cmap=colours, vmin=limits[0], vmax=limits[1])
    axis.set_ylabel(f"{quantity.replace('_', ' ')}\nunit", fontsize=8)
    axis.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    axis.tick_params(labelsize=7)
    bar.yaxis.set_major_locator(MaxNLocator(nbins=4))
    figure.colorbar(image, cax=bar).ax.tick_params(labelsize=7)


def _label_tokens(axis: Axes, tokens: list[str], known: list[bool] | None) -> None:
    steps = label_steps(len(tokens))
    axis.set_xticks(steps, [_cut(tokens[s], LABEL_CHARACTERS) for s in steps], rotation=90, fontsize=7)
    axis.tick_params(axis="x", labelbottom=True)
    for label, step in zip(axis.get_xticklabels(), steps, strict=True):
        if known is not None and not known[step]:
            label.set_color("tab:gray")
    axis.set_xlabel("step (token)", fontsize=8)


def gates_figure(document: dict[str, Any], path: Path, *, sequence: int = 0) -> None:
    """Write `draw_gates(document, sequence=sequence)` to `path` as PNG (atomically)."""
    save_figure(draw_gates(document, sequence=sequence), path)


# attributions.png


def draw_attributions(document: dict[str, Any], *, sequence: int = 0) -> Figure:
    """One sequence's tokens as words on a background coloured by each attribution method (red: toward the target
    class, blue: against; a scale symmetric about 0 per method), wrapped into lines.

    An input longer than `MAX_TEXT_TOKENS` shows its first `MAX_TEXT_TOKENS` tokens as text and, below, every
    position's attribution by each method as a line.

    Args:
        document: an inspection's JSON (`document.document`), with attributions.
        sequence: which of its sequences.

    Raises:
        ValueError: `sequence` is not one of the document's, or it has no attributions.
    """
    found = _sequence(document, sequence)
    methods = [m for m in document["methods"] if m in found["attributions"]]
    if not methods:
        raise ValueError(f"Expected attributions in sequence {sequence}. Received: none")
    tokens: list[str] = found["tokens"]
    shown = [_cut(t, TEXT_CHARACTERS) for t in tokens[:MAX_TEXT_TOKENS]]
    width, margin = 12.0, 0.4  # inches
    lines = wrap_tokens([len(t) for t in shown], int((width - 2 * margin) * 72 / (CHARACTER_WIDTH * FONT_SIZE)))
    panel = 0.35 + len(lines) * LINE_HEIGHT + 0.85  # heading, text, colourbar
    long = len(tokens) > len(shown)
    heights = [0.7] + [panel] * len(methods) + ([3.0] if long else [])
    plt = pyplot()
    figure: Figure = plt.figure(figsize=(width, sum(heights)))
    top = sum(heights) - heights[0]
    for method in methods:
        values = np.asarray(found["attributions"][method], dtype=np.float64)
        _draw_text(figure, (margin, top, width - 2 * margin), method, shown, lines, values, found)
        top -= panel
    if long:
        _draw_lines(figure, (0.9, 0.5, width - 1.3, heights[-1] - 0.9), methods, found, len(shown))
    note = f"; the first {len(shown)} of its {len(tokens)} tokens shown as text" if long else ""
    figure.suptitle(_attribution_title(document, sequence, found) + note, fontsize=11, y=1 - 0.15 / sum(heights))
    return figure


def _attribution_title(document: dict[str, Any], sequence: int, found: dict[str, Any]) -> str:
    gap = found.get("completeness_gap")
    gap_text = "" if gap is None else f"\nIntegrated Gradients' completeness gap {gap:.2g}"
    score = found.get("score")
    score_text = "" if score is None else f" (score {score:.3g}, baseline {found.get('baseline_score') or 0:.3g})"
    return f"{document['model']}, sequence {sequence}: {_prediction(found)}{score_text}{gap_text}"


def _draw_text(
    figure: Figure,
    box: tuple[float, float, float],
    method: str,
    shown: list[str],
    lines: list[list[int]],
    values: np.ndarray,
    found: dict[str, Any],
) -> None:
    """One method's panel below (left, top) in inches, `width` wide: a heading, the text and a colourbar."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import MaxNLocator

    left, top, width = box
    text_height = len(lines) * LINE_HEIGHT
    axis = _add_axes(figure, (left, top - 0.35 - text_height, width, text_height))
    capacity = width * 72 / (CHARACTER_WIDTH * FONT_SIZE)
    axis.set(xlim=(0, capacity), ylim=(len(lines), 0))
    axis.set_axis_off()
    colours, norm = colormaps["RdBu_r"], Normalize(-_reach(values), _reach(values))
    known = found.get("known")
    for row, line in enumerate(lines):
        column = 0.0
        for index in line:
            value = values[index]
            face = colours(norm(value)) if np.isfinite(value) else (0.85, 0.85, 0.85, 1.0)
            axis.add_patch(Rectangle((column, row + 0.08), len(shown[index]) + 0.7, 0.84, color=face, linewidth=0))
            dark = 0.299 * face[0] + 0.587 * face[1] + 0.114 * face[2] < 0.5
            style = "italic" if known is not None and not known[index] else "normal"
            colour = "white" if dark else "black"
            axis.text(
                column + 0.35,
                row + 0.5,
                shown[index],
                va="center",
                family="monospace",
                fontsize=FONT_SIZE,
                style=style,
                color=colour,
            )
            column += len(shown[index]) + 1
    total = float(np.nansum(values))
    unknown = "; italic: not in the vocabulary" if known is not None and not all(known) else ""
    axis.set_title(f"{METHOD_NAMES.get(method, method)} (sum {total:.3g}){unknown}", loc="left", fontsize=10, pad=6)
    bar = _add_axes(figure, (left, top - 0.35 - text_height - 0.3, min(4.0, width), 0.12))
    colourbar = figure.colorbar(ScalarMappable(norm, colours), cax=bar, orientation="horizontal")
    colourbar.ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    colourbar.ax.tick_params(labelsize=7)
    colourbar.set_label(f"blue: against {found['target']}, red: toward it", fontsize=8)


def _reach(values: np.ndarray) -> float:
    """The half-width of a scale symmetric about 0 that holds every finite value."""
    finite = values[np.isfinite(values)]
    reach = float(np.abs(finite).max()) if finite.size else 0.0
    return reach if reach > 0 else 1.0


def _add_axes(figure: Figure, box: tuple[float, float, float, float]) -> Axes:
    """Axes at (left, bottom, width, height) in inches."""
    width, height = figure.get_size_inches()
    left, bottom, w, h = box
    return figure.add_axes((left / width, bottom / height, w / width, h / height))


def _draw_lines(
    figure: Figure, box: tuple[float, float, float, float], methods: list[str], found: dict[str, Any], shown: int
) -> None:
    axis = _add_axes(figure, box)
    for method in methods:
        values = np.asarray(found["attributions"][method], dtype=np.float64)
        axis.plot(np.arange(values.size), values, linewidth=0.7, label=METHOD_NAMES.get(method, method))
    axis.axhline(0, color="black", linewidth=0.5)
    axis.axvspan(-0.5, shown - 0.5, color="tab:gray", alpha=0.12, label="shown as text above")
    axis.set(xlim=(0, len(found["tokens"]) - 1), xlabel="step", ylabel="attribution")
    axis.set_title("every position", loc="left", fontsize=10)
    axis.legend(fontsize=8, loc="upper right")
    axis.grid(alpha=0.3)


def attributions_figure(document: dict[str, Any], path: Path, *, sequence: int = 0) -> None:
    """Write `draw_attributions(document, sequence=sequence)` to `path` as PNG (atomically)."""
    save_figure(draw_attributions(document, sequence=sequence), path)


# saturation.png and gradient.png, from the document's statistics


def draw_saturation(statistics: dict[str, Any]) -> Figure:
    """Karpathy, Johnson and Fei-Fei's saturation plot: for each gate, one point per unit at (fraction of steps
    below 0.1, fraction above 0.9), one colour per layer and direction; units on the diagonal x + y = 1 never leave
    saturation.

    Args:
        statistics: the document's `"statistics"` (`statistics.py`).
    """
    plt = pyplot()
    figure: Figure
    figure, axes = plt.subplots(1, len(SATURATION_GATES), figsize=(14, 5.2), layout="constrained")
    for axis, gate in zip(axes, SATURATION_GATES, strict=True):
        for colour, direction in enumerate(statistics["directions"]):
            saturation = direction["saturation"][gate]
            label = f"{direction['layer']} {direction['direction']}"
            axis.scatter(
                saturation["low"], saturation["high"], s=16, alpha=0.7, color=f"C{colour}", label=label, clip_on=False
            )
        axis.plot([0, 1], [1, 0], color="black", linewidth=0.8, linestyle="--")
        axis.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", title=gate.replace("_", " "))
        axis.set_xlabel(f"fraction of steps left-saturated (< {SATURATED[0]})")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel(f"fraction of steps right-saturated (> {SATURATED[1]})")
    axes[-1].legend(fontsize=8, loc="upper right")
    figure.suptitle(
        f"Gate saturation: {statistics['sequences']} sequences, {statistics['steps']} steps ({statistics['source']})"
    )
    return figure


def draw_gradient(statistics: dict[str, Any]) -> Figure:
    """The mean norm of the loss's gradient with respect to each input step against the step's distance from the
    end of the direction that reads it, one line per entry, on a log axis; distances that fewer than 5 sequences
    reach are grey crosses, and a lower panel gives the count at each distance.

    Args:
        statistics: the document's `"statistics"` (`statistics.py`).
    """
    plt = pyplot()
    figure: Figure
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 6.5), sharex=True, height_ratios=(3, 1), layout="constrained"
    )
    positive = False
    for colour, entry in enumerate(statistics["gradient_by_distance"]):
        distance = np.asarray(entry["distance"], dtype=np.float64)
        norm = np.asarray(entry["mean_norm"], dtype=np.float64)
        count = np.asarray(entry["count"], dtype=np.float64)
        shown = np.isfinite(norm) & (norm > 0) & (count > 0)
        trusted = shown & (count >= TRUSTED_COUNT)
        positive = positive or bool(shown.any())
        label = f"{entry['layer']} {entry['direction']}"
        top.plot(distance, np.where(trusted, norm, np.nan), color=f"C{colour}", linewidth=1.4, label=label)
        top.scatter(distance[shown & ~trusted], norm[shown & ~trusted], marker="x", s=14, color="tab:gray")
        bottom.step(distance, count, where="mid", color=f"C{colour}", linewidth=1.0)
    if positive:
        top.set_yscale("log")
    top.scatter([], [], marker="x", color="tab:gray", label=f"fewer than {TRUSTED_COUNT} sequences")
    top.set_ylabel("mean gradient norm (log scale)")
    top.legend(fontsize=8)
    top.grid(alpha=0.3, which="both")
    bottom.axhline(TRUSTED_COUNT, color="tab:gray", linewidth=0.8, linestyle="--")
    bottom.set(xlabel="distance from the end of the reading direction (steps)", ylabel="sequences")
    bottom.grid(alpha=0.3)
    figure.suptitle(f"Gradient by distance: {statistics['sequences']} sequences ({statistics['source']})", fontsize=11)
    return figure


def saturation_figure(statistics: dict[str, Any], path: Path) -> None:
    """Write `draw_saturation(statistics)` to `path` as PNG (atomically)."""
    save_figure(draw_saturation(statistics), path)


def gradient_figure(statistics: dict[str, Any], path: Path) -> None:
    """Write `draw_gradient(statistics)` to `path` as PNG (atomically)."""
    save_figure(draw_gradient(statistics), path)


def write_figures(document: dict[str, Any], directory: Path, *, sequence: int = 0) -> list[Path]:
    """Write an inspection's figures into `directory`: gates.png, attributions.png (when the document has
    attributions), and saturation.png and gradient.png (when it has statistics).

    Args:
        document: an inspection's JSON (`document.document`, or a saved inspection.json read back).
        directory: where the PNG files go (made if missing).
        sequence: the sequence whose gates and attributions are drawn.

    Returns:
        The paths written, in that order.
    """
    directory.mkdir(parents=True, exist_ok=True)  # before drawing: a path that cannot be a directory fails at once
    written = [directory / "gates.png"]
    gates_figure(document, written[-1], sequence=sequence)
    if document["methods"] and _sequence(document, sequence)["attributions"]:
        written.append(directory / "attributions.png")
        attributions_figure(document, written[-1], sequence=sequence)
    statistics = document.get("statistics")
    if statistics is not None:
        written.append(directory / "saturation.png")
        saturation_figure(statistics, written[-1])
        written.append(directory / "gradient.png")
        gradient_figure(statistics, written[-1])
    return written
