"""The `lstmlab train` command that repeats a run: what `lstmlab tune` prints beside its best run."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..data import DataSpec, TextSettings
from ..runs import RunSpec

__all__ = ["option_text", "train_command"]


def option_text(value: Any) -> str:
    """A value as the command line reads it back exactly."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def train_command(spec: RunSpec) -> list[str]:
    """The `lstmlab train` command line that repeats `spec` (add `--out DIR` to choose where it goes).

    Every setting that differs from the command line's default is written out, so that the command trains the
    same run: the same weights and test scores on the same machine (CPU, the same thread count).
    """
    command = ["lstmlab", "train", "--model", str(spec.preset)]
    if spec.data is None:
        command += ["--task", spec.task]
        command += [x for k, v in spec.task_options.items() for x in ("--task-set", f"{k}={option_text(v)}")]
        if spec.train_size is not None:
            command += ["--train-size", str(spec.train_size)]
        if spec.test_size != RunSpec.test_size:
            command += ["--test-size", str(spec.test_size)]
    else:
        command += _data_flags(spec.data)
    command += [x for k, v in spec.model_options.items() for x in ("--set", f"{k}={option_text(v)}")]
    for name, value in dataclasses.asdict(spec.train).items():
        if value is not None:
            command += [_flag(name), option_text(value)]
    return [*command, "--seed", str(spec.seed)]


_DATA_FLAGS = {"test_path": "--test-data", "data_format": "--data-format", "split_seed": "--split-seed"}


_TEXT_FLAGS = {"level": "--text-level"}


def _data_flags(data: DataSpec) -> list[str]:
    flags = ["--data", data.path]
    default, text_default = DataSpec(""), TextSettings()
    for name in ("test_path", "data_format", "text_column", "label_column", "encoding", "test_fraction", "split_seed"):
        value = getattr(data, name)
        if value != getattr(default, name):
            flags += [_DATA_FLAGS.get(name, _flag(name)), option_text(value)]
    if not data.standardise:
        flags.append("--no-standardise")
    if not data.text.lower:
        flags.append("--keep-case")
    for name in ("level", "max_words", "min_count", "max_len", "truncating", "padding"):
        value = getattr(data.text, name)
        if value != getattr(text_default, name):
            flags += [_TEXT_FLAGS.get(name, _flag(name)), option_text(value)]
    return flags
