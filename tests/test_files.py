"""Saved runs: identical predictions after loading, atomic writes, no code executed on load, clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from lstmlab import PRESETS, build_model
from lstmlab.models import preset_config
from lstmlab.runs.files import load_model, read_config, run_config, save_model


def saved(directory: Path, name: str = "tutorial-bilstm", seed: int = 0, **options: object) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = build_model(name, **options)
    if name == "series-lstm-fcn":  # BatchNormalization's moving statistics away from 0 and 1, so their loss shows
        model.train()(torch.randn(4, 6, model.input_shape[-1]))
    save_model(directory, model, run_config(name, preset_config(name, **options), {"note": seed}))
    return model


@pytest.mark.parametrize("name", list(PRESETS))
def test_save_load_predict_identical(tmp_path: Path, name: str) -> None:
    small = {"max_len": 12} if "max_len" in {f for f in vars(PRESETS[name].config)} else {}
    model = saved(tmp_path, name, **small).eval()
    loaded, description = load_model(tmp_path)
    assert description["model"]["preset"] == name
    if name.startswith(("text", "qa-embedding")):
        x = torch.randint(1, 50, (model.batch_size or 3, model.input_shape[0] or 6))
    else:
        x = torch.rand(model.batch_size or 3, *(6 if d is None else d for d in model.input_shape))
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert json.loads((tmp_path / "config.json").read_text()) == description


def test_interrupted_write_leaves_the_previous_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = saved(tmp_path, seed=1)
    torch.manual_seed(2)
    second = build_model("tutorial-bilstm")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C after the bytes went out, before the file took the model's name

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(tmp_path, second, run_config("tutorial-bilstm", preset_config("tutorial-bilstm"), {}))
    monkeypatch.undo()
    loaded, _ = load_model(tmp_path)
    for key, value in first.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]  # no temporary left


def test_killed_writer_leaves_a_loadable_model(tmp_path: Path) -> None:
    script = (
        "import sys, torch\n"
        "torch.set_num_threads(1)  # as the test process: the same initial weights bit for bit\n"
        "from pathlib import Path\n"
        "from lstmlab import build_model\n"
        "from lstmlab.runs.files import run_config, save_model\n"
        "from lstmlab.models import preset_config\n"
        "config = preset_config('text-bilstm')\n"
        "for seed in range(10_000):\n"
        "    torch.manual_seed(seed)\n"
        "    save_model(Path(sys.argv[1]), build_model('text-bilstm'), run_config('text-bilstm', config, {'seed': seed}))\n"
        "    print(seed, flush=True)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    for _ in range(3):
        writer.stdout.readline()  # a few whole saves have landed
    time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    model, description = load_model(tmp_path)  # whatever the moment of the kill, one complete model is there
    torch.manual_seed(description["seed"])
    expected = build_model("text-bilstm")
    for key, value in expected.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)


def test_loading_refuses_what_is_not_an_lstmlab_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Expected a run directory holding model.safetensors"):
        load_model(tmp_path)
    save_file({"w": torch.zeros(2)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match="Expected lstmlab metadata"):
        read_config(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x80\x04pickle, not safetensors")
    with pytest.raises(ValueError, match="Expected a safetensors file"):
        read_config(tmp_path)


def test_incomplete_description_is_refused(tmp_path: Path) -> None:
    text = json.dumps({"format": "lstmlab-run/1", "model": {"preset": "qa-lstm"}})
    save_file({"w": torch.zeros(2)}, str(tmp_path / "model.safetensors"), metadata={"lstmlab": text})
    with pytest.raises(ValueError, match="Expected a model preset and config"):
        read_config(tmp_path)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("{not json", "Expected JSON in the lstmlab metadata of .*model.safetensors. Received: "),
        ("[1, 2]", "Expected a JSON object in the lstmlab metadata of .*model.safetensors. Received: list"),
        ('{"format": "lstmlab-run/1", "model": 3}', "Expected a model preset and config in .*. Received: 3"),
        (
            '{"format": "lstmlab-run/1", "model": {"preset": "qa-lstm", "config": [1]}}',
            "Expected a model config object in .*model.safetensors. Received: \\[1\\]",
        ),
        (
            '{"format": "lstmlab-run/1", "model": {"preset": "qa-lstm", "config": {"units": "ten"}}}',
            "Expected a model config that builds in .*model.safetensors",
        ),
    ],
)
def test_a_model_file_with_bad_metadata_is_one_line_naming_it(tmp_path: Path, metadata: str, message: str) -> None:
    save_file({"w": torch.zeros(2)}, str(tmp_path / "model.safetensors"), metadata={"lstmlab": metadata})
    with pytest.raises(ValueError, match=message) as error:
        load_model(tmp_path)
    assert "\n" not in str(error.value)


def test_weights_that_disagree_with_the_metadata_are_one_line(tmp_path: Path) -> None:
    model = build_model("qa-lstm")
    save_model(tmp_path, model, run_config("qa-lstm", preset_config("qa-lstm"), {}))
    description = read_config(tmp_path)
    description["model"]["config"]["units"] = 12  # the weights were saved for 10
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp_path / "model.safetensors"), metadata={"lstmlab": json.dumps(description)})
    with pytest.raises(ValueError, match=r"Expected weights of the shapes the metadata of .*model.safetensors"):
        load_model(tmp_path)


def test_weights_of_another_dtype_than_the_model_are_one_line(tmp_path: Path) -> None:
    model = build_model("qa-lstm")
    save_model(tmp_path, model, run_config("qa-lstm", preset_config("qa-lstm"), {}))
    description = read_config(tmp_path)
    state = {k: v.to(torch.float64).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp_path / "model.safetensors"), metadata={"lstmlab": json.dumps(description)})
    with pytest.raises(ValueError, match=r"Expected weights of the dtype the model has .* of torch\.float64"):
        load_model(tmp_path)
