"""`lstmlab inspect`'s figures: drawn from real inspections' JSON documents (and a fake statistics part of the shape
`statistics.py` gives), each a valid PNG of bounded size, with tokens on the step axis, the stated colour scales,
and nothing left behind by a write that fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from lstmlab.explain.document import document
from lstmlab.explain.figures import (
    MAX_LABELS,
    MAX_TEXT_TOKENS,
    attributions_figure,
    draw_attributions,
    draw_gates,
    draw_gradient,
    draw_saturation,
    gates_figure,
    gradient_figure,
    label_steps,
    saturation_figure,
    wrap_tokens,
    write_figures,
)
from lstmlab.explain.inspection import inspect
from lstmlab.models import build_model

PNG = b"\x89PNG\r\n\x1a\n"
MAX_PIXELS = (2400, 4800)  # 20 x 40 inches at save_figure's 120 dpi
GATES = ("input_gate", "forget_gate", "output_gate")


@pytest.fixture(scope="module")
def text() -> dict[str, Any]:
    """Two texts, one of them padded, with both attribution methods and one token out of the vocabulary."""
    torch.manual_seed(0)
    model = build_model("text-bilstm-pool", vocab_size=50, max_len=40, units=8)
    ids = torch.randint(2, 50, (2, 40))
    ids[1, 12:] = 0
    tokens = [[f"w{int(i)}" for i in ids[0]], [f"w{int(i)}" for i in ids[1, :12]]]
    known = [[True] * 40, [True] * 12]
    known[0][3] = False
    found = inspect(model, ids, [40, 12], steps=8)
    return document(
        found, model=model.name, classes=["negative", "positive"], inputs="text", tokens=tokens, known=known
    )


@pytest.fixture(scope="module")
def series() -> dict[str, Any]:
    """A per-step series model: one sequence of 10 values, the last step explained."""
    torch.manual_seed(0)
    model = build_model("tutorial-bilstm")
    values = torch.rand(1, 10, 1)
    found = inspect(model, values, steps=8)
    tokens = [[f"{float(v):.2f}" for v in values[0, :, 0]]]
    return document(found, model=model.name, classes=["0", "1"], inputs="series", tokens=tokens)


@pytest.fixture(scope="module")
def long() -> dict[str, Any]:
    """A 3000-token text, Integrated Gradients only."""
    torch.manual_seed(0)
    model = build_model("text-bilstm-pool", vocab_size=50, max_len=3000, units=4)
    ids = torch.randint(2, 50, (1, 3000))
    found = inspect(model, ids, methods=("integrated_gradients",), steps=4)
    tokens = [[f"w{int(i)}" for i in ids[0]]]
    return document(found, model=model.name, classes=["negative", "positive"], inputs="text", tokens=tokens)


def fake_statistics(directions: list[dict[str, Any]], distances: int = 30) -> dict[str, Any]:
    """Random numbers in the shape of a document's `"statistics"` (seeded)."""
    rng = np.random.default_rng(0)
    found: dict[str, Any] = {
        "sequences": 40,
        "steps": 1200,
        "source": "test",
        "directions": [],
        "gradient_by_distance": [],
    }
    for direction in directions:
        units = direction["units"]
        low = rng.uniform(0, 0.6, (3, units))
        found["directions"].append(
            {
                "layer": direction["layer"],
                "direction": direction["direction"],
                "units": units,
                "saturation": {
                    g: {"low": low[k].tolist(), "high": (rng.uniform(0, 1, units) * (1 - low[k])).tolist()}
                    for k, g in enumerate(GATES)
                },
                "mean_forget": rng.uniform(0, 1, units).tolist(),
                "correlations": {
                    "position": rng.uniform(-1, 1, units).tolist(),
                    "label": rng.uniform(-1, 1, units).tolist(),
                },
                "top_units": {"position": [[0, 0.5], [1, -0.4]], "label": [[2, 0.3]]},
            }
        )
    count = np.maximum(0, 40 - 2 * np.arange(distances))  # 0 from distance 20: untrusted below 5 from 18
    for name in ("forward", "backward", "both"):
        found["gradient_by_distance"].append(
            {
                "layer": "bidirectional",
                "direction": name,
                "distance": list(range(distances)),
                "mean_norm": (rng.uniform(0.5, 2) * np.exp(-np.arange(distances) / 6)).tolist(),
                "count": count.tolist(),
            }
        )
    return found


def assert_png(path: Path) -> tuple[int, int]:
    """The file is a whole PNG, no larger than `MAX_PIXELS`, with no temporary file beside it; its size."""
    assert path.read_bytes().startswith(PNG)
    with Image.open(path) as image:
        image.load()
        size: tuple[int, int] = image.size
    assert size[0] <= MAX_PIXELS[0] and size[1] <= MAX_PIXELS[1], size
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "no temporary file left behind"
    return size


def tick_labels(axis: Any) -> list[str]:
    return [label.get_text() for label in axis.get_xticklabels()]


def test_label_steps_by_hand() -> None:
    assert label_steps(3) == [0, 1, 2]
    assert label_steps(0) == []
    assert label_steps(7, most=3) == [0, 3, 6]
    steps = label_steps(3000)
    assert len(steps) == MAX_LABELS and steps[0] == 0 and steps[-1] == 2999
    assert np.ptp(np.diff(steps)) <= 1, "evenly spaced"


def test_wrap_tokens_by_hand() -> None:
    assert wrap_tokens([3, 3, 3, 5], 8) == [[0, 1], [2], [3]]  # "abc abc " is 8: a third would need 11
    assert wrap_tokens([10, 2], 8) == [[0], [1]], "a word wider than a line gets one of its own"
    assert wrap_tokens([], 8) == []
    assert wrap_tokens([1] * 6, 5) == [[0, 1, 2], [3, 4, 5]]


def test_gates_label_the_steps_with_the_tokens_and_keep_their_scales(text: dict[str, Any]) -> None:
    figure = draw_gates(text)
    heatmaps = [a for a in figure.get_axes() if a.get_images()]
    assert len(heatmaps) == 2 * 6, "six quantities for each of two directions"
    tokens = text["sequences"][0]["tokens"]
    labelled = [a for a in heatmaps if any(t.get_visible() and t.get_text() for t in a.get_xticklabels())]
    assert len(labelled) == 2, "the bottom panel of each direction carries the tokens"
    for axis in labelled:
        assert tick_labels(axis) == tokens
        assert axis.get_xticklabels()[3].get_color() == "tab:gray", "the token out of the vocabulary is grey"
    limits = {a.get_ylabel().split("\n")[0]: a.get_images()[0].get_clim() for a in heatmaps[:6]}
    assert limits["input gate"] == limits["forget gate"] == limits["output gate"] == (0, 1)
    assert limits["candidate"] == limits["hidden"] == (-1, 1)
    cell = np.abs(np.asarray(text["sequences"][0]["layers"]["bidirectional"]["forward"]["cell"])).max()
    assert limits["cell"] == pytest.approx((-cell, cell))
    assert heatmaps[0].get_images()[0].get_array().shape == (8, 40), "units down, steps along"


def test_a_padded_sequence_shows_only_the_steps_it_read(text: dict[str, Any]) -> None:
    figure = draw_gates(text, sequence=1)
    axis = next(a for a in figure.get_axes() if a.get_images())
    assert axis.get_images()[0].get_array().shape == (8, 12)
    with pytest.raises(ValueError, match=r"Expected sequence in \[0, 2\). Received: sequence=2"):
        draw_gates(text, sequence=2)


def test_a_per_step_model_marks_the_step_explained(series: dict[str, Any]) -> None:
    figure = draw_gates(series)
    heatmaps = [a for a in figure.get_axes() if a.get_images()]
    assert tick_labels(heatmaps[5]) == series["sequences"][0]["tokens"]
    assert [line.get_xdata()[0] for line in heatmaps[0].get_lines()] == [9]
    assert "the step explained" in figure.get_suptitle()


def test_a_long_input_labels_at_most_sixty_ticks(long: dict[str, Any]) -> None:
    figure = draw_gates(long)
    axis = [a for a in figure.get_axes() if a.get_images()][-1]
    tokens = long["sequences"][0]["tokens"]
    labels = tick_labels(axis)
    assert len(labels) == MAX_LABELS
    assert labels == [tokens[s] for s in label_steps(3000)]
    assert "60 of the 3000 tokens labelled" in figure.get_suptitle()


def test_a_long_input_gives_a_bounded_image(long: dict[str, Any], tmp_path: Path) -> None:
    gates_figure(long, tmp_path / "gates.png")
    width, _ = assert_png(tmp_path / "gates.png")
    assert width == MAX_PIXELS[0], "as wide as allowed, and no wider"


def test_attributions_colour_each_word_on_a_scale_symmetric_about_zero(text: dict[str, Any]) -> None:
    figure = draw_attributions(text)
    panels = [a for a in figure.get_axes() if a.texts]
    assert len(panels) == 2, "Integrated Gradients and occlusion"
    found = text["sequences"][0]
    for axis, method in zip(panels, ("integrated_gradients", "occlusion"), strict=True):
        assert [t.get_text() for t in axis.texts] == found["tokens"]
        values = np.asarray(found["attributions"][method])
        strongest = int(np.abs(values).argmax())
        colour = axis.patches[strongest].get_facecolor()
        assert (colour[0] > colour[2]) == (values[strongest] > 0), "red toward the target, blue against"
        assert axis.texts[3].get_style() == "italic", "the token out of the vocabulary"
    bars = [a for a in figure.get_axes() if a.get_xlabel() == f"blue: against {found['target']}, red: toward it"]
    assert len(bars) == 2
    reach = np.abs(found["attributions"]["integrated_gradients"]).max()
    assert bars[0].get_xlim() == pytest.approx((-reach, reach))
    title = figure.get_suptitle()
    assert "predicted" in title and f"target {found['target']}" in title and "completeness gap" in title


def test_a_long_input_shows_its_first_tokens_as_text_and_every_position_as_a_line(
    long: dict[str, Any], tmp_path: Path
) -> None:
    figure = draw_attributions(long)
    (text_panel,) = [a for a in figure.get_axes() if a.texts]
    assert len(text_panel.texts) == MAX_TEXT_TOKENS
    assert f"the first {MAX_TEXT_TOKENS} of its 3000 tokens" in figure.get_suptitle()
    (line,) = [line for a in figure.get_axes() for line in a.get_lines() if len(line.get_xdata()) == 3000]
    np.testing.assert_allclose(line.get_ydata(), long["sequences"][0]["attributions"]["integrated_gradients"])
    attributions_figure(long, tmp_path / "attributions.png")
    assert_png(tmp_path / "attributions.png")


def test_saturation_places_each_unit_and_draws_the_diagonal(text: dict[str, Any], tmp_path: Path) -> None:
    statistics = fake_statistics(text["directions"])
    figure = draw_saturation(statistics)
    axes = figure.get_axes()
    assert [a.get_title() for a in axes] == ["input gate", "forget gate", "output gate"]
    for axis, gate in zip(axes, GATES, strict=True):
        assert axis.get_xlim() == (0, 1) and axis.get_ylim() == (0, 1)
        points = [c.get_offsets() for c in axis.collections]
        for found, direction in zip(points, statistics["directions"], strict=True):
            np.testing.assert_allclose(
                found, np.c_[direction["saturation"][gate]["low"], direction["saturation"][gate]["high"]]
            )
        (diagonal,) = axis.get_lines()
        np.testing.assert_allclose(np.asarray(diagonal.get_xdata()) + diagonal.get_ydata(), 1)
    saturation_figure(statistics, tmp_path / "saturation.png")
    assert_png(tmp_path / "saturation.png")


def test_gradient_greys_the_distances_too_few_sequences_reach(text: dict[str, Any], tmp_path: Path) -> None:
    statistics = fake_statistics(text["directions"])
    figure = draw_gradient(statistics)
    top = figure.get_axes()[0]
    assert top.get_yscale() == "log"
    lines = [
        line
        for line in top.get_lines()
        if line.get_label() in {"bidirectional forward", "bidirectional backward", "bidirectional both"}
    ]
    assert len(lines) == 3
    trusted = np.isfinite(np.asarray(lines[0].get_ydata(), dtype=float))
    np.testing.assert_array_equal(trusted, np.asarray(statistics["gradient_by_distance"][0]["count"]) >= 5)
    grey = [c for c in top.collections if len(c.get_offsets())]
    assert [len(c.get_offsets()) for c in grey] == [2, 2, 2], "counts 4 and 2 marked; count 0 not drawn"
    gradient_figure(statistics, tmp_path / "gradient.png")
    assert_png(tmp_path / "gradient.png")


def test_write_figures_writes_what_the_document_holds_and_redraws_from_saved_json(
    text: dict[str, Any], tmp_path: Path
) -> None:
    saved = json.loads(json.dumps({**text, "statistics": fake_statistics(text["directions"])}))
    written = write_figures(saved, tmp_path / "figures", sequence=1)
    assert [p.name for p in written] == ["gates.png", "attributions.png", "saturation.png", "gradient.png"]
    for path in written:
        assert_png(path)


def test_write_figures_leaves_out_what_the_document_lacks(series: dict[str, Any], tmp_path: Path) -> None:
    bare = {**series, "methods": [], "sequences": [{**s, "attributions": {}} for s in series["sequences"]]}
    assert [p.name for p in write_figures(bare, tmp_path / "bare")] == ["gates.png"]


def test_a_failed_write_leaves_no_file(text: dict[str, Any], tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(FileExistsError):
        saturation_figure(fake_statistics(text["directions"]), blocker / "saturation.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-directory"]
    with pytest.raises(FileExistsError):
        write_figures(text, blocker)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-directory"]
