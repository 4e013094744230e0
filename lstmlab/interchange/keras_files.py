"""Runs made from, and written to, other formats: a saved Keras model becomes an ordinary run directory, and a run
becomes a Keras `.keras` file.

An imported run (kind "imported") holds the model's layout (`models.layout`) in place of a preset, and what a run
needs to be used without a task or an encoder: what the model reads (`inputs`: "ids" or "values"), what it answers
(`targets`: "per-sequence" or "per-step"), the class labels ("0", "1" for a sigmoid; "0".."k-1" for a softmax over
k), and where it came from (`source`). A leading Keras Masking is an lstmlab `Masking` layer of the layout: the
model derives its lengths from the masked steps, as Keras does.
`lstmlab predict RUN --input FILE` and `lstmlab evaluate RUN --data FILE` read its sequences (`sequence_files`).
The Keras files themselves are read and written by `lstmlab.keras.archive`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import write_atomically
from ..models import Ensemble, Sequential
from ..runs import RunDirectory, dated_name, layout_run_config, load_run, model_reads, save_model

if TYPE_CHECKING:
    from ..keras import KerasModel

__all__ = ["Exported", "Imported", "export_keras", "import_keras"]


@dataclass(frozen=True)
class Imported:
    """What `import_keras` made: the run directory, and what its model reads and answers."""

    directory: Path
    name: str  # the Keras model's name
    labels: tuple[str, ...]  # class labels, by class id
    inputs: str  # "ids" or "values"
    targets: str  # "per-sequence" or "per-step"
    parameters: int
    notes: tuple[str, ...]  # where lstmlab differs from Keras on this model (padded steps, training)


@dataclass(frozen=True)
class Exported:
    """What `export_keras` wrote: the file, the activation Keras applies last, and what the file does not hold."""

    path: Path
    activation: str  # "sigmoid" or "softmax"
    notes: tuple[str, ...]


def _read_keras(path: Path) -> KerasModel:
    from ..keras import read_keras  # h5py and the Keras mapping load only for Keras files

    return read_keras(path)


def _write_keras(model: Sequential, path: Path, activation: str) -> None:
    from ..keras import write_keras

    write_keras(model, path, activation=activation)


def _labels(imported: KerasModel, path: Path) -> tuple[str, ...]:
    """Class labels for a classifier's output: "0", "1" for one sigmoid unit; "0".."k-1" for a softmax over k.

    Raises:
        ValueError: for a linear output (regression), several sigmoid units (several yes/no answers at once) or a
            softmax over one unit.
    """
    units = imported.model.output_shape[-1] or 0
    if imported.activation == "sigmoid" and units == 1:
        return ("0", "1")
    if imported.activation == "softmax" and units >= 2:
        return tuple(str(k) for k in range(units))
    if imported.activation == "linear":
        raise ValueError(
            f"Expected a classifier (a last Dense with a sigmoid or softmax) to import. Received: {path} ends in a "
            "linear output (regression), which lstmlab runs do not score"
        )
    raise ValueError(
        f"Expected one sigmoid unit (two classes) or a softmax over two or more. Received: {imported.activation} over "
        f"{units} unit(s) in {path}"
    )


def import_keras(path: Path, out: Path | None = None, *, overwrite: bool = False) -> Imported:
    """Make a run directory from a saved Keras classifier (a Keras 3 `.keras` archive or a Keras 2 `.h5` file).

    The directory is written as a training run's is (`runs.RunDirectory`: into `<out>.partial`, renamed when
    complete), so a refused or failed import leaves nothing behind and an existing run untouched.

    Args:
        path: the Keras file.
        out: the run directory (default: a new dated directory under `runs/` named after the file).
        overwrite: replace the lstmlab run already in `out`.

    Returns:
        `Imported`: the directory, the class labels, what the model reads and answers, notes on differences.

    Raises:
        ValueError: one line, for a target that may not be written, a file that is not a Keras model, a layer or
            option lstmlab cannot import (named), or a model that is not a classifier.

    Example:
        >>> import_keras(Path("model.keras"), Path("runs/imported")).labels  # doctest: +SKIP
        ('0', '1')
    """
    path = Path(path)
    directory = RunDirectory(Path(out) if out is not None else dated_name(path.stem or "imported"))
    directory.check_target(overwrite=overwrite)  # before reading the file: a refused target costs nothing
    imported = _read_keras(path)
    labels = _labels(imported, path)
    reads = model_reads(imported.model, labels)
    inputs, targets = ("ids" if reads.tokens else "values"), ("per-step" if reads.per_step else "per-sequence")
    source = {
        "path": str(path.resolve()),
        "format": imported.format,
        "keras_version": imported.keras_version,
        "name": imported.name,
        "activation": imported.activation,
        "layer_names": list(imported.layer_names),
    }
    extra: dict[str, Any] = {
        "source": source,
        "inputs": inputs,
        "targets": targets,
        "labels": list(labels),
        "notes": list(imported.notes),
    }
    description = layout_run_config(imported.model, extra, kind="imported")
    directory.begin(overwrite=overwrite)
    try:
        save_model(directory.partial, imported.model, description)
        directory.commit()
    except BaseException:
        directory.abandon()
        raise
    parameters = imported.model.count_params()
    return Imported(directory.target, imported.name, labels, inputs, targets, parameters, imported.notes)


def export_keras(run: Path, out: Path | None = None, *, overwrite: bool = False) -> Exported:
    """Write a run's model as a Keras 3 `.keras` file that Keras loads and predicts the same with: the model's
    logits with a final sigmoid (one logit) or softmax (several), as Keras classifiers end.

    The file is written beside its target and renamed into place, so a failed export leaves no file behind and an
    existing one untouched.

    Args:
        run: a run directory (trained by lstmlab or imported).
        out: the file to write (default: `model.keras` in the run directory); its name must end in `.keras`.
        overwrite: replace an existing file at `out`.

    Returns:
        `Exported`: the file, the final activation, and what the file does not hold (the run's encoder).

    Raises:
        ValueError: one line, for an ensemble, a layer Keras has no equivalent of (named), or a target that exists
            (without `overwrite`) or is not a `.keras` name.

    Example:
        >>> export_keras(Path("runs/imported")).path  # doctest: +SKIP
        PosixPath('runs/imported/model.keras')
    """
    run = Path(run)
    target = Path(out) if out is not None else run / "model.keras"
    if target.suffix != ".keras":
        raise ValueError(f"Expected a file name ending in .keras (Keras 3 loads by it). Received: {target}")
    if target.is_dir() or (target.exists() and not overwrite):
        what = "a directory" if target.is_dir() else "an existing file (--overwrite to replace it)"
        raise ValueError(f"Expected a new .keras file to write. Received: {target} is {what}")
    saved = load_run(run)
    model = saved.model
    if isinstance(model, Ensemble):
        raise ValueError(
            f"Expected one model to export. Received: an ensemble of {model.size} in {run} (Keras has no model that "
            "averages its members' probabilities)"
        )
    activation = "sigmoid" if model.output_shape[-1] == 1 else "softmax"
    write_atomically(target, lambda temporary: _write_keras(model, temporary, activation))
    notes: tuple[str, ...] = ()
    if saved.kind in ("text", "series"):
        what = "token ids from its vocabulary" if saved.kind == "text" else "standardised series"
        notes = (f"the model reads {what}: the run's encoder is in {run / 'config.json'}, not in the .keras file",)
    return Exported(target, activation, notes)
