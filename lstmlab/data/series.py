"""Labelled multichannel series from files: UCR/UEA `.ts` files and the data sets bundled with aeon (read by aeon,
an optional extra), and NumPy `.npz` archives. Series keep their own lengths; every error names the file, the
series and what was expected.

A series is an array `(steps, channels)`. `SeriesScaler` standardises each channel with the mean and standard
deviation of the training split's valid steps (never the padding), and is saved with the model as JSON.
"""

from __future__ import annotations

import functools
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .sequence import SequenceData, label_ids
from .spec import SERIES_FORMATS, aeon_name, guess_series_format

__all__ = [
    "LabelledSeries",
    "SeriesScaler",
    "bundled_names",
    "check_series",
    "load_series",
    "pad_series",
]

_INSTALL_AEON = "pip install 'lstmlab[timeseries]'"


@dataclass(frozen=True)
class LabelledSeries:
    values: list[np.ndarray]  # each (steps, channels), float64
    labels: list[str]
    source: str  # the file (or aeon name and split), for messages

    def where(self, index: int) -> str:
        return f"{self.source} series {index + 1}"

    def take(self, index: Sequence[int]) -> LabelledSeries:
        return LabelledSeries([self.values[i] for i in index], [self.labels[i] for i in index], self.source)


def _aeon_data() -> Path:
    try:
        import aeon.datasets
    except ImportError:
        raise ValueError(
            f"Expected aeon for UCR/UEA series (.ts, aeon:NAME). Received: not installed; {_INSTALL_AEON}"
        ) from None
    return Path(aeon.datasets.__file__).parent / "data"


def _header(path: Path) -> dict[str, str]:
    """The `@key value` lines before `@data`, keys lower-cased; {} when there is no `@data` line (not a .ts)."""
    header: dict[str, str] = {}
    try:
        with path.open("rb") as handle:
            for raw in handle:
                line = raw.decode("utf-8", errors="replace").strip()
                if line.lower().startswith("@data"):
                    return header
                if line.startswith("@"):
                    key, _, value = line[1:].partition(" ")
                    header[key.lower()] = value.strip()
    except OSError as error:
        raise ValueError(f"Expected a readable .ts file. Received: {path} ({error.strerror})") from None
    return {}


def bundled_names() -> list[str]:
    """Classification data sets that aeon ships inside its wheel (loadable offline), by archive name; regression
    sets (`@targetLabel true`) are left out."""
    return list(_classification_sets(_aeon_data()))


@functools.cache
def _classification_sets(root: Path) -> tuple[str, ...]:
    """The classification sets under aeon's data folder `root` (read once per folder: a header per set)."""
    names = []
    for folder in root.iterdir():
        train = folder / f"{folder.name}_TRAIN.ts"
        if train.is_file() and _header(train).get("classlabel", "").lower().startswith("true"):
            names.append(folder.name)
    return tuple(sorted(names))


def _aeon_file(name: str, split: str) -> Path:
    names = bundled_names()
    match = {n.lower(): n for n in names}.get(name.lower())
    if match is None:
        raise ValueError(
            f"Expected the name of a data set bundled with aeon ({', '.join(names)}) or a .ts file. Received: {name!r}"
        )
    return _aeon_data() / match / f"{match}_{split}.ts"


def _read_ts(path: Path, labelled: bool = True) -> tuple[list[np.ndarray], list[str]]:
    if not path.is_file():
        raise ValueError(f"Expected a .ts file. Received: {path} does not exist")
    _aeon_data()  # aeon installed, or a clear error
    from aeon.datasets import load_from_ts_file

    header = _header(path)  # a .ts file declares its header, then @data
    if not header:
        raise ValueError(f"Expected a UCR/UEA .ts file with class labels in {path}. Received: no @data line")
    if header.get("targetlabel", "").lower().startswith("true"):
        raise ValueError(
            f"Expected a classification .ts file (@classLabel true) in {path}. Received: a regression file "
            "(@targetLabel true)"
        )
    try:
        loaded = load_from_ts_file(str(path))
    except Exception as error:  # aeon raises IOError, ValueError, IndexError... on malformed files
        message = str(error).split("\n")[0] or type(error).__name__
        raise ValueError(f"Expected a UCR/UEA .ts file with class labels in {path}. Received: {message}") from None
    x, y = loaded if isinstance(loaded, tuple) else (loaded, None)  # without @classLabel: the series alone
    values = [np.asarray(series, dtype=np.float64).T for series in x]  # aeon: (channels, steps)
    if y is None or len(y) == 0:
        if labelled:
            raise ValueError(f"Expected class labels in {path}. Received: none (@classLabel false?)")
        return values, [""] * len(values)
    return values, [str(label) for label in y]


def _read_npz(path: Path, labelled: bool = True) -> tuple[list[np.ndarray], list[str]]:
    """Arrays `x` (N, steps, channels) (or (N, steps) for one channel), `y` (N,) (optional when not `labelled`),
    optional `lengths` (N,)."""
    if not path.is_file():
        raise ValueError(f"Expected a .npz file. Received: {path} does not exist")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"Expected a NumPy .npz archive in {path}. Received: unreadable ({error})") from None
    with archive:
        missing = [k for k in ("x", "y") if k not in archive.files and (labelled or k == "x")]
        if missing:
            raise ValueError(
                f"Expected arrays x (N, steps, channels) and y (N,) in {path}. Received: {sorted(archive.files)}"
            )
        try:
            x = archive["x"]
            y = archive["y"] if "y" in archive.files else None
            lengths = archive["lengths"] if "lengths" in archive.files else None
        except ValueError as error:  # object arrays need pickle: refused
            raise ValueError(
                f"Expected numeric arrays in {path} (pad ragged series and give lengths). Received: {error}"
            ) from None
    if x.ndim == 2:
        x = x[:, :, None]
    real = np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    if x.ndim != 3 or not real:
        raise ValueError(
            f"Expected x of real numbers shaped (N, steps, channels) in {path}. Received: {x.dtype} {tuple(x.shape)}"
        )
    if y is None:
        y = np.full(x.shape[0], "")
    if y.shape != (x.shape[0],):
        raise ValueError(f"Expected y of shape ({x.shape[0]},) in {path}. Received: {tuple(y.shape)}")
    if lengths is None:
        lengths = np.full(x.shape[0], x.shape[1])
    if lengths.shape != (x.shape[0],) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(
            f"Expected integer lengths of shape ({x.shape[0]},) in {path}. Received: {lengths.dtype} "
            f"{tuple(lengths.shape)}"
        )
    bad = np.flatnonzero((lengths < 1) | (lengths > x.shape[1]))
    if bad.size:
        raise ValueError(
            f"Expected lengths in [1, {x.shape[1]}] in {path}. Received: {int(lengths[bad[0]])} for series {bad[0] + 1}"
        )
    values = [np.asarray(x[i, : int(n)], dtype=np.float64) for i, n in enumerate(lengths)]
    return values, _labels(y, path, labelled)


def _labels(y: np.ndarray, path: Path, labelled: bool) -> list[str]:
    """Class names from `y`: strings, bytes (UTF-8), integers, booleans, or floats with integral values (1.0 -> '1');
    a missing label (NaN, empty) is refused in labelled data."""
    labels = []
    for i, value in enumerate(y.tolist()):
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if isinstance(value, float):
            if not math.isfinite(value) or value != int(value):
                raise ValueError(
                    f"Expected class labels (integers or strings) in {path} y. Received: {value} for series {i + 1}"
                )
            value = int(value)
        label = str(value).strip()
        if labelled and not label:
            raise ValueError(f"Expected a class label for every series in {path} y. Received: none for series {i + 1}")
        labels.append(label)
    return labels


def check_series(values: Sequence[np.ndarray], source: str, channels: int | None = None) -> int:
    """The channel count, after checking every series has it, at least one step and only finite values."""
    for i, series in enumerate(values):
        where = f"{source} series {i + 1}"
        if series.ndim != 2 or series.shape[0] < 1:
            raise ValueError(f"Expected a series with at least one step in {where}. Received: shape {series.shape}")
        if channels is None:
            channels = series.shape[1]
        if series.shape[1] != channels:
            raise ValueError(f"Expected {channels} channels in every series. Received: {series.shape[1]} in {where}")
        bad = np.argwhere(~np.isfinite(series))
        if bad.size:
            step, channel = bad[0]
            raise ValueError(
                f"Expected finite values in {where}. Received: {series[step, channel]} at step {step + 1}, "
                f"channel {channel + 1} (missing values are not filled in silently)"
            )
    if channels is None:
        raise ValueError(f"Expected at least one series in {source}. Received: none")
    return channels


def load_series(
    path: str, data_format: str | None = None, split: str = "TRAIN", *, labelled: bool = True
) -> LabelledSeries:
    """Series and labels from `aeon:Name` (its `split`: TRAIN or TEST), a `.ts` file or a `.npz` archive; with
    `labelled=False` (new series to predict) files without labels give empty ones."""
    data_format = data_format or guess_series_format(path)
    if data_format == "aeon":
        file = _aeon_file(aeon_name(path), split)
        values, labels = _read_ts(file)
        source = f"{path} ({split.lower()})"
    elif data_format == "ts":
        values, labels = _read_ts(Path(path), labelled)
        source = path
    elif data_format == "npz":
        values, labels = _read_npz(Path(path), labelled)
        source = path
    else:
        raise ValueError(f"Expected a series format in {list(SERIES_FORMATS)}. Received: {data_format!r} for {path}")
    check_series(values, source)
    return LabelledSeries(values, labels, source)


def pad_series(values: Sequence[np.ndarray]) -> tuple[Tensor, Tensor]:
    """Right-padded float32 `(N, longest, channels)` and the lengths `(N,)`."""
    lengths = torch.tensor([len(v) for v in values], dtype=torch.long)
    x = torch.zeros(len(values), int(lengths.max()), values[0].shape[1])
    for i, series in enumerate(values):
        x[i, : len(series)] = torch.from_numpy(series)
    return x, lengths


@dataclass(frozen=True)
class SeriesScaler:
    """Per-channel standardisation fitted on the training split; `labels` are the class names by id."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    labels: tuple[str, ...] = ()
    standardise: bool = True

    @property
    def channels(self) -> int:
        return len(self.mean)

    @staticmethod
    def fit(
        values: Sequence[np.ndarray],
        labels: Sequence[str] = (),
        *,
        standardise: bool = True,
        source: str = "the training series",
    ) -> SeriesScaler:
        """Each channel's mean and standard deviation over every valid step of `values`.

        Raises:
            ValueError: if a channel's values are so large that its variance overflows (around 1e154 and above):
                standardised, every value would be 0 and the model would learn nothing.
        """
        steps = np.concatenate(list(values), axis=0)  # every valid step of every series
        with np.errstate(over="ignore", invalid="ignore"):
            mean, std = steps.mean(axis=0), steps.std(axis=0)
        if standardise and not (np.isfinite(mean).all() and np.isfinite(std).all()):
            channel = int(np.flatnonzero(~(np.isfinite(mean) & np.isfinite(std)))[0])
            largest = float(np.abs(steps[:, channel]).max())
            raise ValueError(
                f"Expected series values whose squares are finite in float64 (below about 1e154) to standardise "
                f"{source}. Received: channel {channel + 1} reaches {largest:.3g}; rescale the data or use "
                "--no-standardise"
            )
        std = np.where(std > 0, std, 1.0)  # a constant channel is only centred
        if not standardise:
            mean, std = np.zeros_like(mean), np.ones_like(std)
        return SeriesScaler(tuple(map(float, mean)), tuple(map(float, std)), tuple(labels), standardise)

    def transform(self, values: Sequence[np.ndarray], source: str) -> tuple[Tensor, Tensor]:
        """Checked, standardised, right-padded series `(N, longest, channels)` and their lengths."""
        check_series(values, source, self.channels)
        mean, std = np.asarray(self.mean), np.asarray(self.std)
        scaled = [(v - mean) / std for v in values]
        limit = float(np.finfo(np.float32).max)
        for i, series in enumerate(scaled):
            if np.abs(series).max() > limit:  # the model reads float32: this would become infinity
                raise ValueError(
                    f"Expected values within float32's range (about 3.4e38), standardised or not, in {source} series "
                    f"{i + 1}. Received: {float(np.abs(values[i]).max()):.3g}"
                )
        return pad_series(scaled)

    def dataset(self, series: LabelledSeries) -> SequenceData:
        """Labelled series, standardised and padded, as a `SequenceData` (class ids by `self.labels`)."""
        x, lengths = self.transform(series.values, series.source)
        return SequenceData(x, label_ids(series.labels, self.labels), lengths)

    def unlabelled(self, values: Sequence[np.ndarray], source: str) -> SequenceData:
        """Raw series as a `SequenceData` to predict (targets are placeholders)."""
        x, lengths = self.transform(values, source)
        return SequenceData(x, torch.zeros(len(values), dtype=torch.long), lengths)

    def to_json(self) -> dict[str, Any]:
        return {
            "mean": list(self.mean),
            "std": list(self.std),
            "labels": list(self.labels),
            "standardise": self.standardise,
        }

    @staticmethod
    def from_json(value: dict[str, Any]) -> SeriesScaler:
        try:
            scaler = SeriesScaler(
                tuple(float(v) for v in value["mean"]),
                tuple(float(v) for v in value["std"]),
                tuple(str(label) for label in value["labels"]),
                bool(value["standardise"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"Expected a saved series scaler (mean, std, labels, standardise). {error}") from None
        if len(scaler.std) != len(scaler.mean) or not all(math.isfinite(s) and s > 0 for s in scaler.std):
            raise ValueError("Expected a saved series scaler with one positive std per channel")
        return scaler
