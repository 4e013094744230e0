"""Integrated Gradients and occlusion (lstmlab/explain/attributions.py, through `inspect`): known answers (a linear
model, exact; an LSTM whose answer is the sign of the sum of its inputs; a trained cumulative-sum model), Captum's
`IntegratedGradients` and `Occlusion` as oracles, the interpolation steps and the occluded rows run as one batch,
and the completeness gap that more steps shrink."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor, nn

import lstmlab.explain.attributions as attributions
from lstmlab.cli import main
from lstmlab.explain import gauss_legendre, inspect, integrated_gradients, occlusion
from lstmlab.layers import LSTM, Bidirectional, Dense, Flatten, check_lengths
from lstmlab.models import Sequential, build_model
from lstmlab.runs.saved import load_run

captum_attr = pytest.importorskip("captum.attr")  # the dev extra: CI runs these

CAPTUM = {"atol": 1e-5, "rtol": 1e-4}


def small_text(max_len: int = 12, **options: Any) -> Sequential:
    return build_model("text-bilstm-pool", vocab_size=50, max_len=max_len, units=4, embed_dim=6, **options).eval()


def padded_ids(lengths: list[int], steps: int, seed: int) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 50, (len(lengths), steps), generator=gen)
    return ids * (torch.arange(steps)[None, :] < torch.tensor(lengths)[:, None])


# ------------------------------------------------------------------------------------------------ the rule
def test_gauss_legendre_is_captums_rule_and_integrates_polynomials_exactly() -> None:
    step_sizes, alphas = captum_attr._utils.approximation_methods.approximation_parameters("gausslegendre")
    for steps in (1, 4, 50):
        nodes, weights = gauss_legendre(steps)
        np.testing.assert_allclose(nodes.numpy(), alphas(steps), rtol=0, atol=1e-15)
        np.testing.assert_allclose(weights.numpy(), step_sizes(steps), rtol=0, atol=1e-15)
        assert bool((nodes > 0).all() and (nodes < 1).all())
        degree = 2 * steps - 1  # the integral of a^d over (0, 1) is 1 / (d + 1)
        np.testing.assert_allclose(float((weights * nodes**degree).sum()), 1 / (degree + 1), rtol=1e-12)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match=r"^Expected a positive number of integration steps\. Received: "):
            gauss_legendre(bad)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ known answers
def test_integrated_gradients_of_a_linear_model_is_each_weight_times_its_input() -> None:
    torch.manual_seed(0)
    steps = 9
    model = Sequential([Flatten(), Dense(1)], input_shape=(steps, 1)).eval()
    with pytest.raises(ValueError, match="Expected a model with an LSTM layer"):
        inspect(model, torch.rand(1, steps, 1))
    w, bias = model.layers[1].linear.weight.detach()[0], model.layers[1].linear.bias.detach()[0]  # (T,), ()

    def score(parts: list[Tensor], rows: Tensor) -> Tensor:
        return model.run_checked(parts[0], None)[:, 0]

    x = torch.randn(3, steps, 1)
    origin = torch.randn(3, steps, 1)
    for baseline in (torch.zeros_like(x), origin):
        for n in (1, 50):  # the gradient is constant: one node is exact
            found = integrated_gradients(score, [x], [baseline], steps=n)
            torch.testing.assert_close(found.scores, w * (x - baseline)[..., 0], rtol=0, atol=1e-6)
            torch.testing.assert_close(found.gap, torch.zeros(3), rtol=0, atol=1e-6)
            torch.testing.assert_close(found.at_input, x[..., 0] @ w + bias, rtol=0, atol=1e-6)
            torch.testing.assert_close(found.at_baseline, baseline[..., 0] @ w + bias, rtol=0, atol=1e-6)
    removed = occlusion(score, [x], [torch.zeros_like(x)], None)
    torch.testing.assert_close(removed.scores, w * x[..., 0], rtol=0, atol=1e-6)
    assert removed.at_baseline is None


def sign_of_sum_model(steps: int) -> Sequential:
    """LSTM(1) -> Dense(1) whose logit is monotone in the sum of its inputs: forget, input and output gates held
    near 1 by large biases, the candidate tanh(0.1 x_t) near 0.1 x_t, so that c_T is about 0.1 sum x; the logit is
    50 tanh(c_T)."""
    model = Sequential([LSTM(1), Dense(1)], input_shape=(steps, 1)).eval()
    cell, dense = model.layers[0].cell, model.layers[1].linear
    with torch.no_grad():
        cell.weight_ih.zero_()
        cell.weight_hh.zero_()
        cell.bias.copy_(torch.tensor([10.0, 10.0, 0.0, 10.0]))  # gates i | f | g | o
        cell.weight_ih[2, 0] = 0.1
        dense.weight.fill_(50.0)
        dense.bias.zero_()
    return model


def test_an_lstm_answering_the_sign_of_the_sum_is_explained_by_each_inputs_sign() -> None:
    steps = 12
    model = sign_of_sum_model(steps)
    gen = torch.Generator().manual_seed(0)
    signs = torch.where(torch.rand(12, steps, 1, generator=gen) < 0.5, -1.0, 1.0)
    x = signs * (0.2 + 0.8 * torch.rand(12, steps, 1, generator=gen))  # mixed signs, |x_t| in [0.2, 1]
    x = x[x.sum(dim=(1, 2)).abs() > 0.5]  # sums clear of 0
    sums = x.sum(dim=(1, 2))
    assert len(x) >= 6 and {bool(s > 0) for s in sums} == {False, True}
    found = inspect(model, x, steps=50)
    for k, sequence in enumerate(found.sequences):
        assert sequence.predicted == sequence.target == int(sums[k] > 0)
        toward = x[k, :, 0].numpy() * (1 if sequence.target == 1 else -1)  # what moves the score up
        explained = sequence.attributions["integrated_gradients"]
        np.testing.assert_array_equal(np.sign(explained), np.sign(toward))
        assert np.corrcoef(explained, toward)[0, 1] > 0.99
        assert sequence.completeness_gap is not None and abs(sequence.completeness_gap) < 1e-4
        np.testing.assert_array_equal(np.sign(sequence.attributions["occlusion"]), np.sign(toward))


@pytest.fixture(scope="module")
def cumsum_model(tmp_path_factory: pytest.TempPathFactory) -> Sequential:
    """tutorial-bilstm trained briefly (a second or two) by `lstmlab train` on the cumulative-sum task: at each
    step, class 1 where the sum so far exceeds a quarter of the steps."""
    folder: Path = tmp_path_factory.mktemp("cumsum")
    argv = ["train", "--task", "cumsum", "--updates", "300", "--test-size", "20", "--seed", "0"]
    assert main([*argv, "--out", str(folder / "run")]) == 0
    return load_run(folder / "run").model


def test_a_trained_cumulative_sum_model_credits_every_input_toward_class_1(cumsum_model: Sequential) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(24, 10, 1, generator=gen) * torch.linspace(0.1, 0.6, 24)[:, None, None]  # sums 0.5 to 3.4
    found = inspect(cumsum_model, x, steps=50)
    assert {s.target for s in found.sequences} == {0, 1}
    for sequence in found.sequences:
        assert sequence.target_step == 9
        toward_1 = 1 if sequence.target == 1 else -1
        # every input only adds to the sum: removing one lowers class 1's score; Integrated Gradients credit
        # class 1 with all but at most one position, that one by a share under 5% of the row's largest
        assert bool((toward_1 * sequence.attributions["occlusion"] > 0).all())
        explained = toward_1 * sequence.attributions["integrated_gradients"]
        assert (explained <= 0).sum() <= 1 and explained.min() > -0.05 * explained.max()
        assert sequence.completeness_gap is not None and abs(sequence.completeness_gap) < 1e-5


# ------------------------------------------------------------------------------------------------ Captum
def text_forward(model: Sequential) -> Any:
    """A text model after its Embedding as Captum calls it: vectors (R, T, E) and each row's length; the scores of
    classes 0 and 1 as ours reads them (the logit, negated for class 0)."""

    def forward(vectors: Tensor, lengths: Tensor) -> Tensor:
        logit = model.run_embedded(vectors, check_lengths(lengths, *vectors.shape[:2], vectors.device))
        return torch.cat([-logit, logit], dim=-1)

    return forward


def series_forward(model: Sequential) -> Any:
    def forward(values: Tensor, lengths: Tensor) -> Tensor:
        return model.run_checked(values, check_lengths(lengths, *values.shape[:2], values.device))

    return forward


def series_model() -> Sequential:
    torch.manual_seed(1)
    return build_model("series-bilstm", features=2, units=4, num_classes=3).eval()


def test_integrated_gradients_equal_captums_on_padded_texts_and_series() -> None:
    torch.manual_seed(0)
    model = small_text()
    ids, lengths = padded_ids([9, 5], 12, seed=0), torch.tensor([9, 5])
    values = torch.full((2, 9, 2), 5.0)
    values[0], values[1, :6] = torch.randn(9, 2), torch.randn(6, 2)
    series = series_model()
    cases = [
        (model, ids, lengths, model.layers[0].lookup(ids).detach(), text_forward(model)),
        (series, values, torch.tensor([9, 6]), values, series_forward(series)),
    ]
    for net, x, rows, vectors, forward in cases:
        found = inspect(net, x, rows, methods=("integrated_gradients",), steps=50)
        target = [s.target for s in found.sequences]
        theirs = captum_attr.IntegratedGradients(forward).attribute(
            vectors,
            baselines=torch.zeros_like(vectors),
            target=target,
            additional_forward_args=(rows,),
            n_steps=50,
            method="gausslegendre",
        )
        per_position = theirs.sum(dim=-1).detach().numpy()  # (B, T)
        for k, sequence in enumerate(found.sequences):
            n = len(sequence.positions)
            np.testing.assert_allclose(sequence.attributions["integrated_gradients"], per_position[k, :n], **CAPTUM)
            np.testing.assert_array_equal(per_position[k, n:], 0.0)  # the steps a row does not read


def test_occlusion_equals_captums_with_a_window_of_one_step() -> None:
    torch.manual_seed(2)
    model = small_text()
    ids = padded_ids([12, 12], 12, seed=2)
    series = series_model()
    values = torch.randn(2, 7, 2)
    cases = [
        (model, ids, model.layers[0].lookup(ids).detach(), text_forward(model)),
        (series, values, values, series_forward(series)),
    ]
    for net, x, vectors, forward in cases:
        found = inspect(net, x, methods=("occlusion",))
        steps, width = vectors.shape[1:]
        theirs = captum_attr.Occlusion(forward).attribute(
            vectors,
            sliding_window_shapes=(1, width),
            baselines=0,
            target=[s.target for s in found.sequences],
            additional_forward_args=(torch.full((2,), steps),),
        )
        # each step's window covers all its features once: every feature holds the step's whole difference
        torch.testing.assert_close(theirs, theirs[..., :1].expand_as(theirs), rtol=0, atol=0)
        for k, sequence in enumerate(found.sequences):
            np.testing.assert_allclose(sequence.attributions["occlusion"], theirs[k, :, 0].numpy(), **CAPTUM)


# ------------------------------------------------------------------------------------------------ one batch
def calls_of(layer: nn.Module) -> tuple[list[int], Any]:
    """The batch size of each call of `layer`, and the hook's handle."""
    sizes: list[int] = []
    handle = layer.register_forward_hook(lambda _module, args, _out: sizes.append(int(args[0].shape[0])))
    return sizes, handle


def extra_calls(model: Sequential, x: Tensor, **options: Any) -> list[int]:
    """The calls of the model's Bidirectional that `inspect` makes with `options` beyond those it makes without
    attributions (the traced forward and the logits)."""
    (bi,) = [m for m in model.modules() if isinstance(m, Bidirectional)]
    sizes, handle = calls_of(bi)
    try:
        inspect(model, x, methods=())
        plain = list(sizes)
        sizes.clear()
        inspect(model, x, **options)
    finally:
        handle.remove()
    assert sizes[: len(plain)] == plain
    return sizes[len(plain) :]


def test_integrated_gradients_of_a_380_token_text_run_in_one_call() -> None:
    torch.manual_seed(3)
    model = small_text(max_len=380)
    ids = padded_ids([380], 380, seed=3)
    # 50 interpolations and the two ends (f(baseline), f(x)): one call of 52 rows, with one backward pass
    assert extra_calls(model, ids, methods=("integrated_gradients",), steps=50) == [52]


def test_occlusion_runs_the_occluded_rows_in_one_call_under_row_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(4)
    model = small_text(max_len=200)
    ids = padded_ids([200], 200, seed=4)
    assert attributions.ROW_STEPS >= 200 * 200
    # f(x), then the 200 occluded copies together
    assert extra_calls(model, ids, methods=("occlusion",)) == [1, 200]
    whole = inspect(model, ids, methods=("occlusion",)).sequences[0].attributions["occlusion"]
    monkeypatch.setattr(attributions, "ROW_STEPS", 64 * 200)
    assert extra_calls(model, ids, methods=("occlusion",)) == [1, 64, 64, 64, 8]
    parts = inspect(model, ids, methods=("occlusion",)).sequences[0].attributions["occlusion"]
    np.testing.assert_allclose(parts, whole, atol=1e-6, rtol=0)


def test_integrated_gradients_split_by_row_steps_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(5)
    model = small_text()
    ids = padded_ids([12, 7, 3], 12, seed=5)
    whole = inspect(model, ids, methods=("integrated_gradients",), steps=20)
    monkeypatch.setattr(attributions, "ROW_STEPS", 22 * 12)  # one row's 22 interpolations per call
    assert extra_calls(model, ids, methods=("integrated_gradients",), steps=20) == [22, 22, 22]
    parts = inspect(model, ids, methods=("integrated_gradients",), steps=20)
    for a, b in zip(whole.sequences, parts.sequences, strict=True):
        # the same sums over other batches: equal up to float32 rounding
        np.testing.assert_allclose(
            a.attributions["integrated_gradients"], b.attributions["integrated_gradients"], rtol=0, atol=1e-7
        )
        np.testing.assert_allclose([a.score, a.baseline_score], [b.score, b.baseline_score], rtol=0, atol=1e-7)


# ------------------------------------------------------------------------------------------------ completeness
def test_the_completeness_gap_shrinks_with_more_steps() -> None:
    torch.manual_seed(0)
    model = small_text(pooling="average")
    with torch.no_grad():  # larger weights: a score far from linear along the path
        for p in model.parameters():
            p.mul_(4.0)
    ids = padded_ids([12, 7], 12, seed=0)
    gaps = {}
    for steps in (4, 50):
        found = inspect(model, ids, methods=("integrated_gradients",), steps=steps)
        assert found.steps == steps
        gaps[steps] = np.array([s.completeness_gap for s in found.sequences])
        for sequence in found.sequences:
            total = sequence.attributions["integrated_gradients"].sum()
            assert sequence.baseline_score is not None
            np.testing.assert_allclose(sequence.completeness_gap, total - (sequence.score - sequence.baseline_score))
    assert np.abs(gaps[4]).max() > 1e-3
    assert np.abs(gaps[50]).max() < 1e-5
    assert bool((np.abs(gaps[50]) <= np.abs(gaps[4])).all())
    occluded = inspect(model, ids, methods=("occlusion",)).sequences[0]
    assert occluded.completeness_gap is None and occluded.baseline_score is None
