"""lstmlab/layers/core.py, the layers around the LSTM: hand-computed values on tiny inputs, masking, argument checks."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from lstmlab import (
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    ReverseTime,
    SpatialDropout1D,
    TimeDistributed,
)

SEED = 3


def fixed_dense(activation: str | None = None) -> Dense:
    """Dense(2) on 3 inputs with kernel [[1, 0, -1], [2, 1, 0]] and bias [0.5, -1]."""
    dense = Dense(2, activation, input_size=3)
    assert dense.linear is not None
    with torch.no_grad():
        dense.linear.weight.copy_(torch.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]))
        dense.linear.bias.copy_(torch.tensor([0.5, -1.0]))
    return dense


X3 = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
# x @ W.T + b: [1 - 3 + 0.5, 2 + 2 - 1] = [-1.5, 3] and [-1 + 0.5, 0 - 1] = [-0.5, -1]
LINEAR = [[-1.5, 3.0], [-0.5, -1.0]]


# ------------------------------------------------------------------------------------------ Dense
@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        (None, LINEAR),
        ("linear", LINEAR),
        ("relu", [[0.0, 3.0], [0.0, 0.0]]),
        ("tanh", [[math.tanh(-1.5), math.tanh(3.0)], [math.tanh(-0.5), math.tanh(-1.0)]]),
        ("sigmoid", [[1 / (1 + math.exp(1.5)), 1 / (1 + math.exp(-3.0))], [1 / (1 + math.exp(0.5)), 1 / (1 + math.e)]]),
        (
            "softmax",
            [
                [math.exp(-1.5) / (math.exp(-1.5) + math.exp(3.0)), math.exp(3.0) / (math.exp(-1.5) + math.exp(3.0))],
                [
                    math.exp(-0.5) / (math.exp(-0.5) + math.exp(-1.0)),
                    math.exp(-1.0) / (math.exp(-0.5) + math.exp(-1.0)),
                ],
            ],
        ),
    ],
)
def test_dense_hand_computed(activation: str | None, expected: list[list[float]]) -> None:
    torch.testing.assert_close(fixed_dense(activation)(X3), torch.tensor(expected))


def test_dense_on_a_sequence_maps_the_last_axis() -> None:
    out = fixed_dense()(X3.unsqueeze(0))  # (1, 2, 3) -> (1, 2, 2)
    torch.testing.assert_close(out, torch.tensor([LINEAR]))


def test_dense_keras_initialisation() -> None:
    torch.manual_seed(SEED)
    dense = Dense(50, input_size=30)
    assert dense.linear is not None
    bound = math.sqrt(6 / (30 + 50))  # glorot uniform
    assert float(dense.linear.weight.detach().abs().max()) <= bound
    assert float(dense.linear.weight.detach().abs().max()) > 0.9 * bound
    assert torch.equal(dense.linear.bias, torch.zeros(50))


def test_dense_build_returns_shape_and_rejects_a_different_size() -> None:
    dense = Dense(4)
    assert dense.build((7, 3)) == (7, 4)
    assert dense.build((None, 3)) == (None, 4)
    with pytest.raises(ValueError, match=r"Dense was built for 3 inputs\. Received: input_shape=\(5,\)"):
        dense.build((5,))


def test_dense_rejects_unknown_activation() -> None:
    with pytest.raises(ValueError, match=r"Expected activation in \[.*'relu'.*\]\. Received: activation='gelu'"):
        Dense(2, "gelu")


def test_dense_rejects_wrong_feature_size() -> None:
    with pytest.raises(ValueError, match=r"Dense expected 3 features on the last axis\. Received: shape=\(2, 4\)"):
        fixed_dense()(torch.rand(2, 4))


# ------------------------------------------------------------------------------------------ TimeDistributed
def test_time_distributed_applies_dense_at_every_step() -> None:
    layer = TimeDistributed(fixed_dense())
    x = torch.stack([X3, X3.flip(0)])  # (2, 2, 3): second row has the steps swapped
    expected = torch.tensor([LINEAR, LINEAR[::-1]])
    torch.testing.assert_close(layer(x), expected)
    assert layer.build((None, 3)) == (None, 2)


def test_time_distributed_rejects_inputs_without_steps() -> None:
    layer = TimeDistributed(fixed_dense())
    with pytest.raises(
        ValueError, match=r"TimeDistributed expected an input of rank 3 or 4 .*Received: shape=\(2, 3\)"
    ):
        layer(X3)


# ------------------------------------------------------------------------------------------ Flatten
def test_flatten_hand_computed() -> None:
    x = torch.arange(12.0).reshape(2, 3, 2)
    torch.testing.assert_close(Flatten()(x), torch.tensor([[0.0, 1, 2, 3, 4, 5], [6.0, 7, 8, 9, 10, 11]]))
    assert Flatten().build((3, 2)) == (6,)
    assert Flatten().output_lengths(x, torch.tensor([3, 1])) is None


# ------------------------------------------------------------------------------------------ pooling
# two rows of four steps, one feature; the steps after each row's length are padding
POOL_X = torch.tensor([[[1.0], [2.0], [6.0], [100.0]], [[-4.0], [-2.0], [100.0], [100.0]]])
POOL_LENGTHS = torch.tensor([3, 2])


def test_average_pooling_hand_computed() -> None:
    pool = GlobalAveragePooling1D()
    torch.testing.assert_close(pool(POOL_X, lengths=POOL_LENGTHS), torch.tensor([[3.0], [-3.0]]))
    torch.testing.assert_close(pool(POOL_X), torch.tensor([[109 / 4], [194 / 4]]))


def test_max_pooling_hand_computed() -> None:
    pool = GlobalMaxPooling1D()
    torch.testing.assert_close(pool(POOL_X, lengths=POOL_LENGTHS), torch.tensor([[6.0], [-2.0]]))
    torch.testing.assert_close(pool(POOL_X), torch.tensor([[100.0], [100.0]]))
    # all-negative valid steps with zero padding: the padding must not win
    x = torch.tensor([[[-3.0], [-5.0], [0.0]]])
    torch.testing.assert_close(pool(x, lengths=torch.tensor([2])), torch.tensor([[-3.0]]))


@pytest.mark.parametrize("pooling", [GlobalAveragePooling1D, GlobalMaxPooling1D])
def test_masked_pooling_equals_pooling_each_row_alone(pooling: type[GlobalMaxPooling1D]) -> None:
    gen = torch.Generator().manual_seed(SEED)
    lengths = [6, 3, 1, 5]
    x = torch.randn(4, 6, 5, generator=gen)
    for row, length in enumerate(lengths):
        x[row, length:] = 1e3  # padding that would dominate either pooling
    pool = pooling()
    pooled = pool(x, lengths=torch.tensor(lengths))
    assert pooled.shape == (4, 5)
    for row, length in enumerate(lengths):
        torch.testing.assert_close(pooled[row : row + 1], pool(x[row : row + 1, :length]))
    assert pool.build((6, 5)) == (5,)
    assert pool.output_lengths(x, torch.tensor(lengths)) is None


# ------------------------------------------------------------------------------------------ ReverseTime
def test_reverse_time_within_lengths_hand_computed() -> None:
    x = torch.arange(5).repeat(3, 1).unsqueeze(-1).float()  # (3, 5, 1), each row 0..4
    out = ReverseTime()(x, lengths=torch.tensor([5, 3, 1]))
    expected = [[4, 3, 2, 1, 0], [2, 1, 0, 3, 4], [0, 1, 2, 3, 4]]
    assert out.squeeze(-1).tolist() == expected


def test_reverse_time_without_lengths_flips_the_time_axis() -> None:
    x = torch.arange(6.0).reshape(1, 3, 2)
    assert ReverseTime()(x).tolist() == [[[4.0, 5.0], [2.0, 3.0], [0.0, 1.0]]]


def test_reverse_time_on_rank_2_input() -> None:
    x = torch.tensor([[10, 11, 12, 13], [20, 21, 22, 23]])
    out = ReverseTime()(x, lengths=torch.tensor([2, 4]))
    assert out.tolist() == [[11, 10, 12, 13], [23, 22, 21, 20]]


def test_reverse_time_is_its_own_inverse() -> None:
    gen = torch.Generator().manual_seed(SEED)
    x = torch.randn(4, 7, 2, 3, generator=gen)
    lengths = torch.tensor([7, 4, 1, 6])
    layer = ReverseTime()
    once = layer(x, lengths=lengths)
    assert not torch.equal(once, x)
    assert torch.equal(layer(once, lengths=lengths), x)
    for row, length in enumerate(lengths.tolist()):
        assert torch.equal(once[row, :length], x[row, :length].flip(0))
        assert torch.equal(once[row, length:], x[row, length:])  # padding stays put


# ------------------------------------------------------------------------------------------ Embedding
def test_embedding_looks_up_rows() -> None:
    emb = Embedding(4, 3)
    with torch.no_grad():
        emb.embedding.weight.copy_(torch.arange(12.0).reshape(4, 3))
    out = emb(torch.tensor([[1, 0, 3], [2, 2, 1]]))
    expected = [[[3.0, 4, 5], [0, 1, 2], [9, 10, 11]], [[6.0, 7, 8], [6, 7, 8], [3, 4, 5]]]
    torch.testing.assert_close(out, torch.tensor(expected))


def test_embedding_keras_initialisation_and_shape() -> None:
    torch.manual_seed(SEED)
    emb = Embedding(100, 8, input_length=5)
    assert float(emb.embedding.weight.detach().abs().max()) <= 0.05
    assert float(emb.embedding.weight.detach().abs().max()) > 0.04
    assert emb.build((5,)) == (5, 8)
    assert emb.build((None,)) == (None, 8)


def test_embedding_lengths_from_mask_zero() -> None:
    ids = torch.tensor([[5, 3, 0, 0], [1, 2, 3, 4], [7, 0, 0, 0]])
    derived = Embedding(10, 2, mask_zero=True).output_lengths(ids, None)
    assert derived is not None and derived.values is not None
    assert derived.values.tolist() == [2, 4, 1] and (derived.batch, derived.steps) == (3, 4)
    assert Embedding(10, 2).output_lengths(ids, None) is None
    given = torch.tensor([1, 1, 1])
    assert Embedding(10, 2, mask_zero=True).output_lengths(ids, given) is given


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (torch.tensor([1, 2, 3]), r"Embedding expected an input of rank 2 .*Received: shape=\(3,\)"),
        (torch.ones(1, 2, 3, dtype=torch.long), r"Embedding expected an input of rank 2 .*Received: shape=\(1, 2, 3\)"),
        (torch.tensor([[1.0, 2.0]]), r"Embedding expected integer token ids\. Received: dtype=torch\.float32"),
        (torch.tensor([[True, False]]), r"Embedding expected integer token ids\. Received: dtype=torch\.bool"),
        (torch.tensor([[1, -1]]), r"Embedding expected ids in 0\.\.9\. Received: min=-1, max=1"),
        (torch.tensor([[1, 10]]), r"Embedding expected ids in 0\.\.9\. Received: min=1, max=10"),
    ],
)
def test_embedding_rejects_bad_ids(ids: Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        Embedding(10, 2)(ids)
    assert "expected" in str(info.value).lower()


# ------------------------------------------------------------------------------------------ Dropout
def test_dropout_is_identity_in_eval() -> None:
    layer = Dropout(0.5).eval()
    x = torch.rand(3, 4)
    assert torch.equal(layer(x), x)


def test_dropout_in_training_zeroes_and_rescales() -> None:
    torch.manual_seed(SEED)
    layer = Dropout(0.25).train()
    x = torch.rand(200, 50) + 0.5  # no zeros of its own
    out = layer(x)
    dropped = out == 0
    torch.testing.assert_close(out[~dropped], x[~dropped] / 0.75)
    assert 0.2 < float(dropped.float().mean()) < 0.3


def test_dropout_rate_zero_keeps_everything_in_training() -> None:
    x = torch.rand(3, 4)
    assert torch.equal(Dropout(0.0).train()(x), x)
    assert Dropout(0.0).build((5, 2)) == (5, 2)


@pytest.mark.parametrize("rate", [1.5, 1.0, -0.1])
def test_dropout_rejects_rates_outside_0_1(rate: float) -> None:
    with pytest.raises(ValueError, match=rf"Expected a dropout rate in \[0, 1\)\. Received: rate={rate}"):
        Dropout(rate)


@pytest.mark.parametrize(
    ("layer", "shared_axis"),
    [(Dropout(0.4, noise_shape=(None, None, 1)), 2), (SpatialDropout1D(0.4), 1), (Dropout(0.4, (None, 1, 1)), (1, 2))],
    ids=["word-dropout", "spatial", "whole-row"],
)
def test_dropout_with_noise_shape_shares_one_draw_along_the_axes_of_size_1(
    layer: Dropout, shared_axis: int | tuple[int, ...]
) -> None:
    torch.manual_seed(SEED)
    x = torch.rand(64, 30, 8) + 0.5  # no zeros of its own
    out = layer.train()(x)
    kept = out != 0
    torch.testing.assert_close(out[kept], x[kept] / 0.6)  # survivors scaled by 1 / (1 - rate)
    # every value along a shared axis has the same fate: all kept or all dropped
    assert torch.equal(kept.all(dim=shared_axis), kept.any(dim=shared_axis))
    assert 0.3 < float((~kept).float().mean()) < 0.5
    # and the draws differ along the other axes (not one fate for everything)
    assert kept.any() and not kept.all()
    assert torch.equal(layer.eval()(x), x)


def test_dropout_noise_shape_with_sizes_equal_to_the_inputs_is_plain_dropout_structure() -> None:
    torch.manual_seed(SEED)
    x = torch.rand(4, 5, 3) + 0.5
    out = Dropout(0.5, noise_shape=(4, 5, 3)).train()(x)
    kept = out != 0
    torch.testing.assert_close(out[kept], x[kept] * 2)
    assert not torch.equal(kept.all(dim=2), kept.any(dim=2))  # no axis shared: steps split within themselves


def test_dropout_noise_shape_gradient_is_the_mask() -> None:
    torch.manual_seed(SEED)
    x = (torch.rand(3, 6, 4) + 0.5).requires_grad_()
    out = Dropout(0.5, noise_shape=(None, None, 1)).train()(x)
    out.sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, (out != 0).float() * 2)


@pytest.mark.parametrize(
    ("noise_shape", "shape"),
    [((None, 1), (2, 5, 3)), ((None, 4, 1), (2, 5, 3)), ((None, None, 2), (2, 5, 3))],
)
def test_dropout_rejects_a_noise_shape_that_does_not_broadcast(
    noise_shape: tuple[int | None, ...], shape: tuple[int, ...]
) -> None:
    layer = Dropout(0.5, noise_shape=noise_shape).train()
    with pytest.raises(
        ValueError, match=r"Expected inputs that noise_shape=.* broadcasts over .* Received: inputs of shape"
    ):
        layer(torch.rand(shape))
    with pytest.raises(ValueError, match=r"Expected inputs that noise_shape="):
        layer.build(shape[1:])


@pytest.mark.parametrize("noise_shape", [[None, 1], (None, 0), (None, -1), (None, 1.5), (None, True)])
def test_dropout_rejects_bad_noise_shapes(noise_shape: object) -> None:
    with pytest.raises(ValueError, match=r"Expected noise_shape to be a tuple of positive ints or None\. Received"):
        Dropout(0.5, noise_shape=noise_shape)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ lengths and ranks
LENGTH_LAYERS = [GlobalAveragePooling1D, GlobalMaxPooling1D, ReverseTime]


@pytest.mark.parametrize("layer", LENGTH_LAYERS)
@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        (torch.tensor([0, 2]), r"Expected lengths in 1\.\.4 \(the time axis\)\. Received: min=0, max=2"),
        (torch.tensor([5, 2]), r"Expected lengths in 1\.\.4 \(the time axis\)\. Received: min=2, max=5"),
        (torch.tensor([-1, 2]), r"Expected lengths in 1\.\.4 .*Received: min=-1"),
        (torch.tensor([2]), r"Expected lengths of shape \(2,\), one per batch row\. Received: shape=\(1,\)"),
        (torch.tensor([2, 2, 2]), r"Expected lengths of shape \(2,\), one per batch row\. Received: shape=\(3,\)"),
        (torch.tensor([[2, 2]]), r"Expected lengths of shape \(2,\), one per batch row\. Received: shape=\(1, 2\)"),
        (torch.tensor([2.0, 2.0]), r"Expected integer lengths\. Received: dtype=torch\.float32"),
    ],
)
def test_bad_lengths_raise(layer: type[ReverseTime], lengths: Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        layer()(torch.rand(2, 4, 3), lengths=lengths)


def test_lengths_may_be_a_list() -> None:
    x = torch.rand(2, 4, 3)
    out = GlobalAveragePooling1D()(x, lengths=[4, 2])  # type: ignore[arg-type]
    torch.testing.assert_close(out, torch.stack([x[0].mean(0), x[1, :2].mean(0)]))


@pytest.mark.parametrize("layer", [GlobalAveragePooling1D, GlobalMaxPooling1D])
def test_pooling_rejects_wrong_rank_and_integer_input(layer: type[GlobalMaxPooling1D]) -> None:
    with pytest.raises(ValueError, match=rf"{layer.__name__} expected an input of rank 3 .*Received: shape=\(2, 4\)"):
        layer()(torch.rand(2, 4))
    with pytest.raises(ValueError, match=rf"{layer.__name__} expected a floating-point input\. Received: dtype=torch"):
        layer()(torch.ones(2, 4, 3, dtype=torch.long))


def test_reverse_time_rejects_rank_1_input() -> None:
    with pytest.raises(ValueError, match=r"ReverseTime expected an input of rank 2 or 3 .*Received: shape=\(4,\)"):
        ReverseTime()(torch.rand(4))


def test_shape_builders_reject_unknown_shapes() -> None:
    with pytest.raises(ValueError, match=r"Flatten expected a fully known input shape\. Received"):
        Flatten().build((None, 3))
    with pytest.raises(ValueError, match=r"GlobalMaxPooling1D expected an input shape \(T, D\)\. Received"):
        GlobalMaxPooling1D().build((3,))
    with pytest.raises(ValueError, match=r"Embedding expected an input shape \(T,\) of token ids\. Received"):
        Embedding(5, 2).build((3, 2))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Dense(0, input_size=3), r"Expected units to be a positive integer. Received: units=0"),
        (lambda: Embedding(0, 4), r"Expected input_dim to be a positive integer. Received: input_dim=0"),
        (lambda: Embedding(5, -4), r"Expected output_dim to be a positive integer. Received: output_dim=-4"),
    ],
)
def test_sizes_must_be_positive_integers(make, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Embedding(10, 2)(torch.zeros(2, 0, dtype=torch.long)), r"Embedding expected at least one time step"),
        (
            lambda: GlobalAveragePooling1D()(torch.rand(2, 0, 3)),
            r"GlobalAveragePooling1D expected at least one time step",
        ),
        (
            lambda: Dense(2, input_size=3)(torch.ones(2, 3, dtype=torch.long)),
            r"Dense expected a floating-point input. Received: dtype=torch.int64",
        ),
    ],
)
def test_empty_or_integer_inputs_are_refused(call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


def test_time_distributed_needs_an_lstmlab_layer_and_embedding_checks_its_length() -> None:
    with pytest.raises(ValueError, match="Expected an lstmlab layer to apply at every step. Received: Linear"):
        TimeDistributed(torch.nn.Linear(3, 4))  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"Embedding expected 5 steps \(its input_length\). Received: input_shape=\(7,\)"
    ):
        Embedding(10, 2, input_length=5).build((7,))
    with pytest.raises(ValueError, match="Expected activation in"):
        Dense(3, ["relu"])  # type: ignore[arg-type]


def test_gaussian_noise_only_in_training_with_the_given_spread() -> None:
    from lstmlab.layers import GaussianNoise

    layer = GaussianNoise(0.5)
    x = torch.full((200, 50, 4), 3.0)
    assert torch.equal(layer.eval()(x), x)
    torch.manual_seed(0)
    noise = layer.train()(x) - x
    assert abs(float(noise.mean())) < 0.01 and abs(float(noise.std()) - 0.5) < 0.01
    assert sum(p.numel() for p in layer.parameters()) == 0  # as Keras's GaussianNoise
    with pytest.raises(ValueError, match="Expected a finite noise stddev >= 0. Received: stddev=-1"):
        GaussianNoise(-1)


def test_inputs_of_another_dtype_than_the_weights_are_one_line() -> None:
    from lstmlab import Conv1D, LSTMCell, Sequential

    with pytest.raises(
        ValueError,
        match=r"Dense expected inputs of its weights' dtype torch\.float32 .* Received: dtype=torch\.float64",
    ):
        Dense(2, input_size=3)(torch.zeros(4, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"Conv1D expected inputs of its weights' dtype torch\.float32"):
        Conv1D(2, 3, input_size=3)(torch.zeros(4, 5, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"Flatten expected an input of rank 2 or 3 .* Received: shape=\(4,\)"):
        Flatten()(torch.zeros(4))
    with pytest.raises(
        ValueError, match=r"Expected LSTMCell inside an LSTM layer, .* Received: LSTMCell in a Sequential"
    ):
        Sequential([LSTMCell(3, 4)], input_shape=(5, 3))
