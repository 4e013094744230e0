"""A forward model run one step per call gives what it gives on the whole sequence; models that need later steps
are refused."""

from __future__ import annotations

import pytest
import torch

from lstmlab import build_model
from lstmlab.models import streaming


@pytest.mark.parametrize("preset", ["tutorial-lstm", "qa-lstm", "qa-timedistributed", "text-lstm", "qa-embedding-lstm"])
def test_step_by_step_equals_whole_sequence(preset: str) -> None:
    torch.manual_seed(0)
    model = build_model(preset, **({"max_len": 12} if "text" in preset or "embedding" in preset else {})).double()
    model.eval()
    if "text" in preset or "embedding" in preset:
        x = torch.randint(1, 50, (3, 12))
    else:
        x = torch.rand(3, 10, 1, dtype=torch.float64)
    whole = model(x)
    live = streaming(model)
    for _ in range(2):  # a second sequence after reset_states() starts from zeros again
        outputs = [live(x[:, t : t + 1]) for t in range(x.shape[1])]
        if whole.dim() == 3:  # per-step outputs: every step's answer as it arrives
            torch.testing.assert_close(torch.cat(outputs, dim=1), whole, rtol=0, atol=1e-12)
        else:  # many-to-one: the answer after the last step is the whole sequence's
            torch.testing.assert_close(outputs[-1], whole, rtol=0, atol=1e-12)
            assert (outputs[0] - whole).abs().max() > 1e-6  # and earlier answers are answers so far, not copies
        live.reset_states()
    assert not any(getattr(m, "stateful", False) for m in model.modules())  # the original is untouched


@pytest.mark.parametrize(
    ("preset", "culprit"),
    [
        ("tutorial-bilstm", "Bidirectional"),
        ("tutorial-lstm-backward", "go_backwards"),
        ("qa-embedding-bilstm", "Bidirectional"),
        ("text-bilstm", "Bidirectional"),
    ],
)
def test_models_that_read_later_steps_are_refused(preset: str, culprit: str) -> None:
    with pytest.raises(ValueError, match=f"Expected a model that reads forwards.*{culprit}"):
        streaming(build_model(preset))
