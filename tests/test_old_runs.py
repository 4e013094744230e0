"""Saved runs from before still load and predict the same: a text run written by an older commit (its files and
the predictions that commit's library gave, in `tests/fixtures/old_text_run/`, README there) through today's code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from lstmlab.data import SequenceData
from lstmlab.data.text import OOV, TextEncoder
from lstmlab.runs.saved import load_run, predict_texts
from lstmlab.training import predict

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "old_text_run"
RUN = FIXTURE / "run"


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    record: dict[str, Any] = json.loads((FIXTURE / "predictions.json").read_text())
    return record


def encoder_of_run() -> TextEncoder:
    _, encoder = load_run(RUN).data
    assert isinstance(encoder, TextEncoder)
    return encoder


def test_the_fixture_probes_what_it_should(recorded: dict[str, Any]) -> None:
    """Cut texts, unknown words, capitals and a one-mark text are among the recorded ones (else the tests below
    could not see a change of cutting side, vocabulary lookup or lower-casing)."""
    max_len = encoder_of_run().max_len
    tokens, ids = recorded["tokens"], recorded["ids"]
    cut = [row for row, t in enumerate(tokens) if len(t) > max_len]
    assert cut and all(tokens[row][:max_len] != tokens[row][-max_len:] for row in cut)
    assert any(OOV in row for row in ids) and ["?"] in tokens
    assert any(text != text.lower() for text in recorded["texts"])


def test_an_old_run_encodes_texts_to_the_recorded_ids(recorded: dict[str, Any]) -> None:
    encoder = encoder_of_run()
    assert [encoder.tokens(text) for text in recorded["texts"]] == recorded["tokens"]
    ids, lengths = encoder.encode(recorded["texts"])
    assert ids.tolist() == recorded["ids"]
    assert (None if lengths is None else lengths.tolist()) == recorded["lengths"]
    for refused in recorded["refused"]:
        with pytest.raises(ValueError, match="Expected text with at least one token"):
            encoder.encode([refused["text"]])


def test_an_old_run_predicts_the_recorded_probabilities(recorded: dict[str, Any]) -> None:
    run = load_run(RUN)
    encoder = encoder_of_run()
    ids, lengths = encoder.encode(recorded["texts"])
    data = SequenceData(ids, torch.zeros(len(ids), dtype=torch.long), lengths)
    expected = torch.tensor(recorded["probabilities"])
    torch.testing.assert_close(predict(run.model, data), expected, rtol=0, atol=1e-6)
    found = predict_texts(RUN, recorded["texts"])
    assert [p.label for p in found] == [label for label, _ in recorded["predictions"]]
    torch.testing.assert_close(
        torch.tensor([p.confidence for p in found]),
        torch.tensor([confidence for _, confidence in recorded["predictions"]]),
        rtol=0,
        atol=1e-6,
    )
