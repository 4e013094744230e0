"""Conv1D, BatchNormalization and Activation: hand-computed values, torch and Keras oracles, padding invariance."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import import_keras
from torch import Tensor, nn

from lstmlab import Activation, BatchNormalization, Conv1D, Sequential

SEED = 11
LENGTHS = torch.tensor([7, 3, 1, 5])


def fixed_conv(weights: list[float], bias: float) -> Conv1D:
    """Conv1D(1, len(weights)) on one feature with the given taps and bias."""
    conv = Conv1D(1, len(weights), input_size=1)
    assert conv.conv is not None
    with torch.no_grad():
        conv.conv.weight.copy_(torch.tensor(weights).view(1, 1, -1))
        conv.conv.bias.fill_(bias)
    return conv


def padded_batch(gen: torch.Generator, features: int = 3) -> Tensor:
    """(4, 7, features) values with junk (not zeros) beyond each row's length."""
    return torch.randn(len(LENGTHS), int(LENGTHS.max()), features, generator=gen) * 3 + 1


# ------------------------------------------------------------------------------------------ Conv1D
def test_conv1d_hand_computed_odd_kernel() -> None:
    # taps (t-1, t, t+1) = (1, 10, 100), bias 0.5, zeros outside the row
    out = fixed_conv([1.0, 10.0, 100.0], 0.5)(torch.tensor([[[1.0], [2.0], [3.0], [4.0]]]))
    torch.testing.assert_close(out, torch.tensor([[[210.5], [321.5], [432.5], [43.5]]]))


def test_conv1d_hand_computed_even_kernel_pads_on_the_right_as_keras() -> None:
    # kernel 2: Keras's 'same' puts the extra padding step after the row, so taps are (t, t+1)
    out = fixed_conv([1.0, 10.0], 0.0)(torch.tensor([[[1.0], [2.0], [3.0]]]))
    torch.testing.assert_close(out, torch.tensor([[[21.0], [32.0], [3.0]]]))


def test_conv1d_within_lengths_hand_computed() -> None:
    # the row is 2 steps long: step 1 reads a zero at step 2 (not the 3 stored there); padded output is 0
    out = fixed_conv([1.0, 10.0, 100.0], 0.5)(torch.tensor([[[1.0], [2.0], [3.0]]]), lengths=torch.tensor([2]))
    torch.testing.assert_close(out, torch.tensor([[[210.5], [21.5], [0.0]]]))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")  # torch's own note
@pytest.mark.parametrize("kernel", [1, 2, 3, 8])
def test_conv1d_matches_torch_conv1d_with_same_padding(kernel: int) -> None:
    torch.manual_seed(SEED)
    ours = Conv1D(5, kernel, input_size=3)
    assert ours.conv is not None
    oracle = nn.Conv1d(3, 5, kernel, padding="same")
    oracle.load_state_dict(ours.conv.state_dict())
    x = torch.randn(4, 9, 3, requires_grad=True)
    out = ours(x)
    expected = oracle(x.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(out, expected)
    grad = torch.randn_like(out)
    got = torch.autograd.grad(out, (x, ours.conv.weight), grad)
    want = torch.autograd.grad(expected, (x, oracle.weight), grad)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("kernel", [2, 3, 8])
def test_conv1d_matches_keras(kernel: int) -> None:
    keras = import_keras()
    torch.manual_seed(SEED)
    ours = Conv1D(4, kernel, input_size=3)
    assert ours.conv is not None
    reference = keras.layers.Conv1D(4, kernel, padding="same")
    x = torch.randn(2, 9, 3)
    reference(x.numpy())
    kernel_weights = ours.conv.weight.detach().permute(2, 1, 0).numpy()  # (filters, D, k) -> Keras's (k, D, f)
    reference.set_weights([kernel_weights, ours.conv.bias.detach().numpy()])
    expected = np.asarray(reference(x.numpy()).detach().cpu())
    torch.testing.assert_close(ours(x).detach(), torch.from_numpy(expected))


def test_conv1d_padded_batch_equals_each_row_alone() -> None:
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    conv = Conv1D(4, 5, input_size=3)
    x = padded_batch(gen)
    out = conv(x, lengths=LENGTHS)
    for row, length in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(out[row, :length], conv(x[row : row + 1, :length])[0])
        assert torch.equal(out[row, length:], torch.zeros_like(out[row, length:])), "padded steps are zeros"


def test_conv1d_keras_initialisation() -> None:
    torch.manual_seed(SEED)
    conv = Conv1D(40, 8, input_size=12)
    assert conv.conv is not None
    bound = math.sqrt(6 / (12 * 8 + 40 * 8))  # glorot uniform, fans D*k and filters*k
    largest = float(conv.conv.weight.detach().abs().max())
    assert 0.9 * bound < largest <= bound
    assert torch.equal(conv.conv.bias, torch.zeros(40))
    assert sum(p.numel() for p in conv.parameters()) == 8 * 12 * 40 + 40


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Conv1D(0, 3), r"Expected filters to be a positive integer\. Received: filters=0"),
        (lambda: Conv1D(4, 2.5), r"Expected kernel_size to be a positive integer\. Received: kernel_size=2.5"),
        (lambda: Conv1D(4, 3).build((5,)), r"Conv1D expected an input shape \(T, D\) with D known"),
        (
            lambda: Conv1D(4, 3)(torch.rand(2, 5, 3)),
            r"Expected Conv1D\(filters, kernel_size, input_size=D\) or a Sequential\. Received: no input size",
        ),
        (lambda: Conv1D(4, 3, input_size=3)(torch.rand(2, 3)), r"Conv1D expected an input of rank 3"),
        (lambda: Conv1D(4, 3, input_size=3)(torch.rand(2, 5, 2)), r"Conv1D expected 3 features on the last axis"),
        (lambda: Conv1D(4, 3, input_size=3)(torch.ones(2, 5, 3, dtype=torch.long)), r"floating-point input"),
        (lambda: Conv1D(4, 3, input_size=3)(torch.rand(2, 5, 3), lengths=torch.tensor([5, 6])), r"lengths in 1\.\.5"),
    ],
)
def test_conv1d_bad_arguments_raise(make, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        make()


# ------------------------------------------------------------------------------------------ BatchNormalization
def built_norm(features: int = 3, impl: str = "auto", **options: float) -> BatchNormalization:
    norm = BatchNormalization(**options, impl=impl)  # type: ignore[arg-type]
    norm.build((None, features))
    with torch.no_grad():  # gamma and beta away from 1 and 0, so a mix-up shows
        norm.gamma.copy_(torch.linspace(0.5, 2.0, features))
        norm.beta.copy_(torch.linspace(-1.0, 1.0, features))
    return norm


def torch_norm(ours: BatchNormalization) -> nn.BatchNorm1d:
    """torch's BatchNorm1d with our epsilon, Keras's momentum converted (torch weighs the new batch), our gamma/beta."""
    features = ours.gamma.numel()
    oracle = nn.BatchNorm1d(features, eps=ours.epsilon, momentum=1.0 - ours.momentum)
    with torch.no_grad():
        oracle.weight.copy_(ours.gamma)
        oracle.bias.copy_(ours.beta)
    return oracle


@pytest.mark.parametrize("impl", ["reference", "fused"])
def test_batch_norm_training_matches_torch_and_follows_keras_moving_statistics(impl: str) -> None:
    gen = torch.Generator().manual_seed(SEED)
    norm = built_norm(impl=impl)
    oracle = torch_norm(norm)
    x = torch.randn(4, 6, 3, generator=gen) * 2 + 3
    out = norm.train()(x)
    assert norm.last_impl == impl
    torch.testing.assert_close(out, oracle.train()(x.transpose(1, 2)).transpose(1, 2))
    values = x.reshape(-1, 3)
    torch.testing.assert_close(norm.moving_mean.detach(), 0.01 * values.mean(0))
    # Keras keeps the biased variance (torch's running_var is unbiased)
    torch.testing.assert_close(norm.moving_variance.detach(), 0.99 + 0.01 * values.var(0, unbiased=False))


def test_batch_norm_statistics_come_from_valid_steps_only() -> None:
    gen = torch.Generator().manual_seed(SEED)
    norm = built_norm()
    oracle = torch_norm(norm)
    x = padded_batch(gen)
    out = norm.train()(x, lengths=LENGTHS)
    mask = torch.arange(x.shape[1]) < LENGTHS[:, None]
    torch.testing.assert_close(out[mask], oracle.train()(x[mask]))  # the valid values of every row, one batch
    assert torch.equal(out[~mask], torch.zeros_like(out[~mask])), "padded steps are zeros"
    torch.testing.assert_close(norm.moving_mean.detach(), 0.01 * x[mask].mean(0))


def test_batch_norm_matches_keras_with_a_mask() -> None:
    keras = import_keras()
    gen = torch.Generator().manual_seed(SEED)
    norm = built_norm()
    x = padded_batch(gen)
    mask = (torch.arange(x.shape[1]) < LENGTHS[:, None]).numpy()
    reference = keras.layers.BatchNormalization()
    reference.build((None, None, 3))
    reference.gamma.assign(norm.gamma.detach().numpy())
    reference.beta.assign(norm.beta.detach().numpy())
    expected = np.asarray(reference(x.numpy(), training=True, mask=mask).detach().cpu())
    out = norm.train()(x, lengths=LENGTHS).detach()
    torch.testing.assert_close(out[mask], torch.from_numpy(expected)[mask])
    torch.testing.assert_close(norm.moving_mean.detach(), torch.from_numpy(reference.moving_mean.numpy()))
    torch.testing.assert_close(norm.moving_variance.detach(), torch.from_numpy(reference.moving_variance.numpy()))
    torch.testing.assert_close(
        norm.eval()(x).detach(), torch.from_numpy(np.asarray(reference(x.numpy()).detach().cpu()))
    )


@pytest.mark.parametrize("impl", ["reference", "fused"])
def test_batch_norm_evaluation_uses_moving_statistics_hand_computed(impl: str) -> None:
    norm = built_norm(features=2, impl=impl, epsilon=0.25)
    with torch.no_grad():
        norm.moving_mean.copy_(torch.tensor([1.0, -2.0]))
        norm.moving_variance.copy_(torch.tensor([3.75, 0.0]))
    # gamma (0.5, 2), beta (-1, 1): ((x - mean) / sqrt(var + 0.25)) * gamma + beta
    out = norm.eval()(torch.tensor([[3.0, -1.0]]))
    torch.testing.assert_close(out, torch.tensor([[(3 - 1) / 2 * 0.5 - 1, (-1 + 2) / 0.5 * 2 + 1]]))


@pytest.mark.parametrize("shape", [(5, 9, 3), (6, 3)])
def test_batch_norm_fused_path_equals_the_reference(shape: tuple[int, ...]) -> None:
    """PyTorch's kernel (batches without padding) gives the written-out arithmetic's outputs, gradients and moving
    statistics, in training and evaluation, on sequences and on single vectors; a Conv1D's output (a transposed
    contiguous tensor) as input."""
    gen = torch.Generator().manual_seed(SEED)
    x = (torch.randn(*shape, generator=gen) * 2 + 3).requires_grad_(True)
    outputs = {}
    for impl in ("reference", "fused"):
        norm = built_norm(impl=impl)
        trained = norm.train()(x)
        trained = norm.train()(x * 0.5 - 1)  # a second step: the moving statistics follow from where they are
        grads = torch.autograd.grad(
            (trained * torch.arange(trained.numel()).view_as(trained)).sum(), [x, *norm.parameters()][:3]
        )
        assert norm.last_impl == impl
        outputs[impl] = (trained, *grads, norm.moving_mean.clone(), norm.moving_variance.clone(), norm.eval()(x))
    for ours, reference in zip(outputs["fused"], outputs["reference"], strict=True):
        torch.testing.assert_close(ours, reference)


def test_batch_norm_fused_gradients_match_finite_differences() -> None:
    gen = torch.Generator().manual_seed(SEED)
    model = Sequential([Conv1D(2, 4), BatchNormalization(impl="fused"), Activation("tanh")], input_shape=(None, 2))
    model = model.double().train()
    x = torch.randn(3, 5, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(model, (x,))
    assert model.layers[1].last_impl == "fused"


def test_batch_norm_auto_takes_the_kernel_only_without_padding() -> None:
    gen = torch.Generator().manual_seed(SEED)
    norm = built_norm().train()
    norm(padded_batch(gen))
    assert norm.last_impl == "fused"
    norm(padded_batch(gen), lengths=LENGTHS)
    assert norm.last_impl == "reference"
    norm(padded_batch(gen), lengths=torch.full((4,), 7))  # lengths given, no row padded
    assert norm.last_impl == "fused"
    norm(torch.randn(1, 1, 3))  # one value per feature: the kernel refuses to train on it, the reference gives beta
    assert norm.last_impl == "reference"
    with pytest.raises(ValueError, match=r"impl='fused' cannot run this input: a row is padded"):
        built_norm(impl="fused").train()(padded_batch(gen), lengths=LENGTHS)
    with pytest.raises(ValueError, match=r"impl='fused' cannot run this input: one value per feature"):
        built_norm(impl="fused").train()(torch.randn(1, 3))


def test_batch_norm_evaluation_of_a_padded_batch_equals_each_row_alone() -> None:
    gen = torch.Generator().manual_seed(SEED)
    norm = built_norm()
    norm.train()(padded_batch(gen), lengths=LENGTHS)  # moving statistics away from 0 and 1
    norm.eval()
    x = padded_batch(gen)
    out = norm(x, lengths=LENGTHS)
    for row, length in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(out[row, :length], norm(x[row : row + 1, :length])[0])
        assert torch.equal(out[row, length:], torch.zeros_like(out[row, length:])), "padded steps are zeros"


def test_batch_norm_follows_in_its_own_dtype() -> None:
    norm = built_norm()
    norm.train()(torch.randn(4, 5, 3, dtype=torch.float64))  # e.g. a float64 (or autocast half) input
    assert norm.moving_mean.dtype == torch.float32 and float(norm.moving_mean.abs().sum()) > 0


def test_batch_norm_gradients_match_finite_differences_on_a_padded_batch() -> None:
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    model = Sequential([Conv1D(2, 3), BatchNormalization(), Activation("tanh")], input_shape=(None, 2)).double()
    x = torch.randn(3, 5, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([5, 2, 4])
    assert torch.autograd.gradcheck(lambda v: model.train()(v, lengths), (x,))


def test_batch_norm_statistics_never_read_the_padding() -> None:
    """Padded steps are masked out of the sums (no boolean indexing, which needs a device read): NaN or inf there
    reaches neither the output, the moving statistics nor a gradient."""
    gen = torch.Generator().manual_seed(SEED)
    clean, junk = built_norm(), built_norm()
    x = padded_batch(gen)
    mask = (torch.arange(x.shape[1]) < LENGTHS[:, None]).unsqueeze(-1)
    poisoned = x.masked_fill(~mask, float("nan")).masked_fill(~mask & (x > 1), float("inf")).requires_grad_(True)
    want = clean.train()(x, lengths=LENGTHS)
    got = junk.train()(poisoned, lengths=LENGTHS)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(junk.moving_variance, clean.moving_variance)
    (grad,) = torch.autograd.grad((got * torch.randn(got.shape, generator=gen)).sum(), poisoned)
    assert torch.isfinite(grad).all() and torch.equal(grad[~mask.expand_as(grad)], torch.zeros(int((~mask).sum()) * 3))


def test_batch_norm_half_precision_statistics_over_many_steps_do_not_overflow() -> None:
    norm = built_norm(features=1)
    x = torch.full((4, 3000, 1), 100.0, dtype=torch.float16)  # a float16 sum of the valid values would be inf
    out = norm.train()(x, lengths=torch.tensor([3000, 3000, 2000, 1]))
    assert torch.isfinite(out).all()
    torch.testing.assert_close(norm.moving_mean, torch.tensor([1.0]))  # 0.99 * 0 + 0.01 * 100


def test_batch_norm_weights_count_like_keras() -> None:
    norm = built_norm(features=5)
    assert sum(p.numel() for p in norm.parameters()) == 20  # gamma, beta, moving mean, moving variance
    assert sum(p.numel() for p in norm.parameters() if p.requires_grad) == 10
    x = torch.randn(4, 5, requires_grad=True)
    norm.train()(x).sum().backward()
    assert norm.moving_mean.grad is None and norm.gamma.grad is not None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BatchNormalization(momentum=1.0), r"Expected momentum in \[0, 1\)\. Received: momentum=1.0"),
        (lambda: BatchNormalization(epsilon=0.0), r"Expected a finite epsilon > 0\. Received: epsilon=0.0"),
        (lambda: BatchNormalization(impl="fast"), r"Expected impl in .*Received: impl='fast'"),  # type: ignore[arg-type]
        (lambda: BatchNormalization().build((4, None)), r"BatchNormalization expected an input shape"),
        (lambda: built_norm()(torch.rand(2, 4)), r"BatchNormalization expected 3 features on the last axis"),
        (lambda: built_norm()(torch.rand(2, 4, 3, 1)), r"BatchNormalization expected an input of rank 2 or 3"),
        (
            lambda: BatchNormalization()(torch.rand(2, 3)),
            r"Expected BatchNormalization inside a Sequential .*Received: no input size",
        ),
    ],
)
def test_batch_norm_bad_arguments_raise(make, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        make()


# ------------------------------------------------------------------------------------------ Activation
def test_activation_hand_computed() -> None:
    x = torch.tensor([[-2.0, 0.0, 3.0]])
    assert torch.equal(Activation("relu")(x), torch.tensor([[0.0, 0.0, 3.0]]))
    torch.testing.assert_close(Activation("tanh")(x), torch.tensor([[math.tanh(-2.0), 0.0, math.tanh(3.0)]]))


def test_activation_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match=r"Expected activation in \[.*'relu'.*\]\. Received: activation='gelu'"):
        Activation("gelu")
