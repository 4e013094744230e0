"""One run pipeline for task runs and data runs: describe, prepare, fit, save, evaluate, report.

`train_run` takes a `RunSpec` (what the user asked for, typed) and writes a run directory as a transaction
(`directory`); `resume_run` continues an interrupted one. The command line, the comparisons and the benchmarks all
train through here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..atomic import write_csv, write_json
from ..data import (
    BatchStream,
    CorpusScan,
    DataSets,
    Encoder,
    OnlineSource,
    SequenceData,
    SeriesScaler,
    TextEncoder,
    describe_scan,
    prepare_data,
    scan_corpus,
    streamed_sets,
    with_auto_stream,
)
from ..layers import LSTM, BatchNormalization, Embedding
from ..models import Sequential, ensemble_of, ensemble_size, get_preset, preset_config
from ..seeds import Seeds, set_seed
from ..training import (
    Callback,
    EarlyStopping,
    History,
    ModelCheckpoint,
    Progress,
    Scores,
    TrainConfig,
    Trainer,
    World,
    joined,
    launched_size,
)
from ..training import evaluate as evaluate_model
from . import defaults
from .directory import RunDirectory, dated_name, interruptible, read_checkpoint, write_checkpoint
from .files import CHECKPOINT_FILE, RunKind, run_config, run_kind, save_model
from .history import plot_history
from .spec import RunSpec
from .tasks import Task, check_fits, get_task, model_options, task_config
from .vectors import WIDTH_FIELD, RunVectors, read_run_vectors

__all__ = ["Prepared", "RunResult", "data_model", "prepare", "resume_run", "task_model", "train_run"]


@dataclass
class Prepared:
    """A run before training: its resolved spec, kind, model, training settings, data and description."""

    spec: RunSpec  # preset, data paths and split seed resolved
    model: Sequential
    config: TrainConfig
    train: SequenceData | BatchStream | OnlineSource
    test: SequenceData | BatchStream
    labels: list[str] | None  # class names (the user's data), or None (ids)
    description: dict[str, Any]  # config.json
    notes: list[str]  # what lstmlab chose for the user, one line each
    validation: BatchStream | None = None  # a streamed corpus's validation part (a fixed set splits itself)

    @property
    def test_set(self) -> SequenceData:
        """The test set held in memory (what comparisons and sweeps score; they never stream)."""
        if not isinstance(self.test, SequenceData):
            raise ValueError(f"Expected a data set held in memory. Received: {self.spec.data} streamed")
        return self.test

    @property
    def kind(self) -> RunKind:
        """What the run trains on, as its description records it."""
        return run_kind(self.description)

    def callbacks(self, directory: Path) -> list[Callback]:
        """With a validation split the run keeps its best epoch by val_loss: on disk in `directory` as training
        goes, and in the end (stopping after `patience` epochs without improvement; None: never)."""
        if self.config.epochs is None or self.config.validation_split == 0:
            return []
        patience = self.spec.train.patience
        stop_after = patience if patience is not None else self.config.epochs
        return [
            EarlyStopping("val_loss", patience=stop_after, restore_best=True, sink=None),
            ModelCheckpoint(lambda m: save_model(directory, self.model, self.description), monitor="val_loss"),
        ]


@dataclass(frozen=True)
class RunResult:
    """What a training command reports: where the run is, what was trained, the test scores."""

    directory: Path  # the finished run, or the `.partial` directory holding the checkpoint
    model: Sequential
    history: History
    scores: Scores | None  # None when interrupted
    trained: str  # one sentence: what was trained on what, how
    test_set: str  # which test set `scores` come from
    notes: list[str]  # defaults lstmlab chose, one line each
    interrupted: bool = False
    updates: tuple[int, int] = (0, 0)  # updates done, in all


@dataclass
class _Read:
    """A run's data after its one read: a task's generator, the user's sets held in memory, or a corpus's pass
    (its parts stream once the model and batch size are known)."""

    kind: RunKind
    size: int  # training examples (0: online, fresh examples)
    task: tuple[Task, Any] | None = None  # the task and its config
    sets: DataSets | None = None  # held in memory
    scan: CorpusScan | None = None  # streamed
    notes: list[str] = field(default_factory=list)

    @property
    def encoder(self) -> Encoder | None:
        """Fitted on the training part (None: a task's ids or values)."""
        found = self.sets or self.scan
        return None if found is None else found.encoder


_KIND_WORDS = {"text": "token sequences (text)", "series": "numeric series"}


def _read(spec: RunSpec) -> _Read:
    """Read the run's data once: sample nothing yet for a task, load and encode the user's sets, or make the pass
    over a streamed corpus. `spec.data` is resolved (absolute paths, the split's seed)."""
    if spec.data is None:
        task = get_task(spec.task)
        return _Read("task", spec.train_size or 0, task=(task, task_config(spec.task, **spec.task_options)))
    if spec.train.updates is not None:
        raise ValueError(
            f"Expected --epochs with --data (a fixed training set). Received: --updates {spec.train.updates}"
        )
    if spec.data.stream is None:
        sets = prepare_data(spec.data)
        kind: RunKind = "series" if spec.data.kind == "series" else "text"
        return _Read(kind, len(sets.train), sets=sets)
    found = scan_corpus(spec.data)
    notes = []
    if found.pruned_below:
        notes.append(
            f"vocabulary: counted in bounded memory (tokens seen up to {found.pruned_below} times were pruned)"
        )
    return _Read("text", found.counts["train"], scan=found, notes=notes)


def _config_fields(preset: str) -> set[str]:
    return {f.name for f in dataclasses.fields(get_preset(preset).config)}


def task_model(
    preset: str, task: Task, task_conf: Any, overrides: dict[str, Any], ensemble: int = 1
) -> tuple[Any, Sequential]:
    """The preset with the fields the task implies (input length, vocabulary), then the user's changes, as one
    model or an ensemble of `ensemble` members; it must read the task's inputs and answer its targets."""
    fields = _config_fields(preset)
    if get_preset(preset).streaming:
        fields.discard("steps")  # its steps are one call's piece; the task's sequences arrive piece by piece
    config = preset_config(preset, **{**model_options(task, task_conf, fields), **overrides})
    model = ensemble_of(lambda: get_preset(preset).build(config), ensemble)
    check_fits(task, model)
    return config, model


def data_model(preset: str, encoder: Encoder, overrides: dict[str, Any], ensemble: int = 1) -> tuple[Any, Sequential]:
    """The preset sized for the data (vocabulary and length, or channels; classes), then the user's changes, as
    one model or an ensemble of `ensemble` members; it must read what the data holds (token ids or series of any
    length) and give one answer per example."""
    fields = _config_fields(preset)
    classes = len(encoder.labels)
    implied: dict[str, Any] = {"num_classes": classes}
    if isinstance(encoder, TextEncoder):
        implied |= {"vocab_size": encoder.vocabulary.size, "max_len": encoder.max_len}
    else:
        implied |= {"features": encoder.channels, "steps": None, **defaults.SERIES_REGULARISATION}
    config = preset_config(preset, **{**{k: v for k, v in implied.items() if k in fields}, **overrides})
    model = ensemble_of(lambda: get_preset(preset).build(config), ensemble)
    first = model.layers[0]
    answers = model.output_shape == ((1,) if classes == 2 else (classes,))
    if isinstance(encoder, SeriesScaler):
        if isinstance(first, Embedding) or not answers or model.input_shape != (None, encoder.channels):
            raise ValueError(
                f"Expected a model that reads series of any length with {encoder.channels} channels and gives one "
                f"answer of {classes} classes per series. Received: {preset} with input {model.input_shape}, "
                f"output {model.output_shape}"
            )
        return config, model
    if not isinstance(first, Embedding) or not answers:
        raise ValueError(
            f"Expected a model that reads token ids and gives one answer per text for text data. Received: {preset}"
        )
    if first.mask_zero and encoder.settings.padding == "pre":
        raise ValueError(
            "Expected padding='post' with mask_zero=true (lengths keep padding out of both directions). Received: "
            "padding='pre'; use it only with --set mask_zero=false, where the model reads the padding as Keras does"
        )
    return config, model


def _build(
    spec: RunSpec, preset: str, read: _Read, weights: int, members: int, vectors: RunVectors | None
) -> tuple[Any, Sequential]:
    """The run's model, its initial weights drawn from the global generators seeded with `weights`; with vectors,
    its Embedding as wide as they are (unless the user set the width) and started from them."""
    options = spec.model_options
    if vectors is not None and WIDTH_FIELD in _config_fields(preset) and WIDTH_FIELD not in options:
        options = {**options, WIDTH_FIELD: vectors.dimension}
    model_conf, model = _built(preset, read, weights, members, options)
    if vectors is not None:
        vectors.start(model, weights)
    return model_conf, model


def _built(preset: str, read: _Read, weights: int, members: int, options: dict[str, Any]) -> tuple[Any, Sequential]:
    set_seed(weights)
    if read.task is not None:
        return task_model(preset, *read.task, options, members)
    assert read.encoder is not None
    if read.scan is None or "max_len" not in _config_fields(preset) or "max_len" in options:
        return data_model(preset, read.encoder, options, members)
    # a streamed corpus: a model that reads any number of steps takes batches as long as their longest text; one
    # that reads max_len steps (e.g. through Flatten) is refused that way and built again, from the same seed
    try:
        return data_model(preset, read.encoder, {"max_len": None, **options}, members)
    except ValueError:
        set_seed(weights)
        return data_model(preset, read.encoder, options, members)


def _check(spec: RunSpec, preset: str, config: TrainConfig, model: Sequential) -> None:
    """Settings that do not fit each other or the model, refused before anything is written."""
    if model.batch_size is not None and config.batch_size != model.batch_size:
        raise ValueError(f"Expected batch size {model.batch_size} for {preset}. Received: {config.batch_size}")
    if spec.train.patience is None:
        return
    if spec.data is None and (spec.train_size is None or config.validation_split == 0):
        raise ValueError("Expected a fixed training set (--train-size) with a validation split for early stopping")
    if spec.data is not None and config.validation_split == 0:
        raise ValueError("Expected a validation split (--validation-split) for early stopping. Received: none")


Parts = tuple[SequenceData | BatchStream | OnlineSource, SequenceData | BatchStream, BatchStream | None]


def _parts(spec: RunSpec, read: _Read, config: TrainConfig, model: Sequential, seeds: Seeds) -> Parts:
    """The training, test and (streamed only: a fixed set splits itself) validation parts."""
    if read.task is not None:
        task, conf = read.task
        train: SequenceData | OnlineSource
        if spec.train_size is None:
            train = lambda count, generator: task.sample(conf, count, generator)  # noqa: E731
        else:
            train = task.sample(conf, spec.train_size, torch.Generator().manual_seed(seeds.fixed_set))
        return train, task.sample(conf, spec.test_size, torch.Generator().manual_seed(seeds.test_set)), None
    if read.sets is not None:
        if config.validation_split > 0:
            read.sets.train.split(config.validation_split)  # refuses a split that leaves nothing to train
        return read.sets.train, read.sets.test, None
    assert spec.data is not None
    assert read.scan is not None
    streamed = streamed_sets(
        spec.data,
        read.scan,
        validation=config.validation_split,
        batch_size=config.batch_size,
        seed=seeds.training,
        fixed_width=model.input_shape[0] is not None,  # a model that reads max_len steps
    )
    return streamed.train, streamed.test, streamed.validation


def _describe(
    spec: RunSpec, read: _Read, preset: str, model_conf: Any, config: TrainConfig, model: Sequential, test_size: int
) -> dict[str, Any]:
    """`config.json`: the run's kind, model, data, training settings and the resolved spec."""
    if read.task is not None:
        task, conf = read.task
        source: dict[str, Any] = {"task": {"name": task.name, "config": dataclasses.asdict(conf)}}
    else:
        assert spec.data is not None
        assert read.encoder is not None
        source = {"dataset": {"spec": spec.data.to_json(), "encoder": read.encoder.to_json()}}
        if read.scan is not None:
            source["dataset"]["stream"] = describe_scan(read.scan)
    sizes = {"train_size": spec.train_size if read.task else read.size, "test_size": test_size}
    return run_config(
        preset,
        model_conf,
        {
            **source,
            "train": dataclasses.asdict(config),
            "data": {**sizes, "patience": spec.train.patience},
            "run": spec.to_json(),
        },
        kind=read.kind,
        ensemble=ensemble_size(model),
    )


def _vectors(spec: RunSpec, read: _Read) -> RunVectors | None:
    """The `--vectors` file read for the run's vocabulary (None without one)."""
    if spec.data is None or spec.data.vectors is None:
        return None
    assert isinstance(read.encoder, TextEncoder)  # DataSpec refuses vectors for series
    width = spec.model_options.get(WIDTH_FIELD)
    return read_run_vectors(spec.data.vectors, read.encoder, width if isinstance(width, int) else None)


def prepare(spec: RunSpec) -> Prepared:
    """Resolve a spec's defaults, read its data once, build its seeded model (once; a streamed corpus's
    model that must read max_len steps is built again from the same seed), checked to fit each other;
    nothing is written.

    Every seed comes from `spec.seeds` (`Seeds`, made from the user's one seed): the data split, the weights, the
    training order and dropout, a task's fixed training set and its test set.
    """
    seeds = spec.seeds
    if spec.data is not None:
        spec = dataclasses.replace(spec, data=spec.data.resolved(seeds.data_split))
    read = _read(spec)
    task = read.task[0].name if read.task else None
    preset = spec.preset or defaults.preset_for(None if task else read.kind)
    notes = read.notes
    if spec.data is not None and not spec.preset:
        notes = [f"model: {preset} (the default for {_KIND_WORDS[read.kind]}; --model to choose another)", *notes]
    config = defaults.training_config(
        spec.train,
        seed=seeds.training,
        preset=preset,
        task=task,
        fixed_set=spec.train_size is not None,
        kind=None if task else read.kind,
        train_size=read.size,
    )
    members = spec.train.ensemble or (1 if task else defaults.default_ensemble(read.kind, read.size))
    vectors = _vectors(spec, read)
    model_conf, model = _build(spec, preset, read, seeds.weights, members, vectors)
    _check(spec, preset, config, model)
    train, test, validation = _parts(spec, read, config, model, seeds)
    resolved = dataclasses.replace(spec, preset=preset)
    test_size = spec.test_size if task else len(test)
    description = _describe(resolved, read, preset, model_conf, config, model, test_size)
    if vectors is not None:
        description["dataset"]["vectors"] = described = vectors.describe(train)
        notes = [*notes, vectors.note(described)]
    labels = None if read.encoder is None else list(read.encoder.labels)
    return Prepared(resolved, model, config, train, test, labels, description, notes, validation)


def _epochs(count: int) -> str:
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def _trained(prepared: Prepared, shown: RunSpec, history: History) -> tuple[str, str]:
    """The sentence saying what was trained on what, and the name of the test set."""
    members = ensemble_size(prepared.model)
    preset = str(prepared.spec.preset)
    what = preset if members == 1 else f"an ensemble of {members} {preset}"
    config, spec = prepared.config, prepared.spec
    if spec.data is None:
        stopped = f" ({_epochs(len(history.epochs))})" if spec.train_size else ""
        return f"trained {what} on {spec.task}{stopped}", f"{spec.test_size} fresh examples"
    assert shown.data is not None
    if members > 1 and spec.train.ensemble is None:
        what += " (--ensemble to change)"
    size = prepared.description["data"]["train_size"]
    streamed = spec.data.stream is not None  # parts drawn by a hash of each record's number
    held = f"a hashed {config.validation_split:.0%}" if streamed else f"the last {config.validation_split:.0%}"
    kept = (
        f"the best epoch by val_loss on {held} of {size} kept"
        if config.validation_split > 0
        else f"all {size} training examples, the last epoch kept"
    )
    how = f"{'streamed, ' if streamed else ''}{_epochs(len(history.epochs))}, {config.schedule} learning rate"
    source = f"{shown.data.path} ({how}, {kept})"
    data = spec.data
    split = "a hashed" if streamed else "a stratified"
    where = shown.data.test_path or f"{split} {data.test_fraction:.0%} split, seed {data.split}"
    if data.aeon:
        where = "the archive's TEST split"
    return f"trained {what} on {source}", where


def _write_results(directory: Path, prepared: Prepared, history: History, scores: Scores) -> None:
    """history.csv, history.png, updates.csv (online runs) and metrics.json of a finished run."""
    write_csv(directory / "history.csv", history.epochs)
    if history.update_loss:
        rows = [
            {"update": i + 1, "loss": loss, "accuracy": acc}
            for i, (loss, acc) in enumerate(zip(history.update_loss, history.update_accuracy, strict=True))
        ]
        write_csv(directory / "updates.csv", rows)
    write_json(directory / "metrics.json", {"test": dataclasses.asdict(scores)})
    window = "" if prepared.config.updates is None else f" (rows of {prepared.config.updates_per_epoch} updates)"
    plot_history(history.epochs, directory / "history.png", title=f"{prepared.spec.preset}{window}")


def fingerprint(prepared: Prepared) -> str | None:
    """A digest of a fixed training set (inputs, targets, lengths) and of the encoder fitted on it (vocabulary or
    channel statistics, class names): a resumed run must train on the same data. None for a task's fresh
    examples, which the seeds determine."""
    data = prepared.train
    if isinstance(data, BatchStream):  # the pass's description: vocabulary, sizes in bytes and records, parts
        return hashlib.sha256(json.dumps(prepared.description.get("dataset"), sort_keys=True).encode()).hexdigest()
    if not isinstance(data, SequenceData):
        return None
    digest = hashlib.sha256(json.dumps(prepared.description.get("dataset"), sort_keys=True).encode())
    for tensor in (data.x, data.y, data.lengths):
        if tensor is not None:
            digest.update(str((tuple(tensor.shape), tensor.dtype)).encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _fit_and_save(
    prepared: Prepared,
    shown: RunSpec,
    run_dir: RunDirectory,
    *,
    overwrite: bool,
    progress: Progress | None,
    checkpoint_every: int | None,
    stop: Callable[[], bool] | None,
    state: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None,
    world: World | None = None,
) -> RunResult:
    directory = run_dir.partial
    trainer = Trainer(
        prepared.model,
        prepared.train,
        config=prepared.config,
        validation=prepared.validation,
        callbacks=prepared.callbacks(directory),
        progress=progress,
        world=world,
    )
    if state is not None:
        trainer.load_state(*state)

    run = {  # what a checkpoint holds beside the trainer's state, the same at every checkpoint of the run
        "run": prepared.spec.to_json(),
        "overwrite": overwrite,
        "checkpoint_every": checkpoint_every,
        "data": fingerprint(prepared),
    }

    def checkpoint() -> None:
        tensors, meta = trainer.state()
        write_checkpoint(directory, tensors, {**run, "trainer": meta})

    def every() -> None:
        if checkpoint_every is not None and trainer.epoch % checkpoint_every == 0:
            checkpoint()

    write_json(directory / "config.json", prepared.description)
    # Ctrl-C (or SIGTERM) stops training after an update; once training is done, the run is saved and scored
    # whatever is pressed, and a second press (KeyboardInterrupt) leaves a checkpoint of the finished training
    with interruptible() as pressed:
        history = trainer.run(stop=stop or pressed, after_epoch=every)
        trained, test_set = _trained(prepared, shown, history)
        updates = (trainer.updates, trainer.total)
        if trainer.interrupted and trainer.world.distributed:
            raise ValueError(
                f"Expected a data-parallel run to finish (it keeps no checkpoint yet). Received: a stop after update "
                f"{trainer.updates} of {trainer.total}; start it again"
            )
        if trainer.interrupted:
            checkpoint()
            return RunResult(directory, prepared.model, history, None, trained, test_set, prepared.notes, True, updates)
        try:
            save_model(directory, prepared.model, prepared.description)
            batch = prepared.model.batch_size or 256
            scores = evaluate_model(prepared.model, prepared.test, batch_size=batch, labels=prepared.labels)
            _write_results(directory, prepared, history, scores)
        except KeyboardInterrupt:
            checkpoint()
            raise
    for name in (CHECKPOINT_FILE, "checkpoint.json"):
        (directory / name).unlink(missing_ok=True)
    run_dir.commit()
    return RunResult(run_dir.target, prepared.model, history, scores, trained, test_set, prepared.notes, False, updates)


def _run_in(
    run_dir: RunDirectory,
    prepared: Prepared,
    shown: RunSpec,
    *,
    overwrite: bool,
    every: int | None,
    progress: Progress | None,
    stop: Callable[[], bool] | None,
    state: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None,
    world: World | None = None,
) -> RunResult:
    """`_fit_and_save` in `run_dir`, whose `.partial` directory is removed on any error unless it holds a
    checkpoint."""
    try:
        return _fit_and_save(
            prepared,
            shown,
            run_dir,
            overwrite=overwrite,
            progress=progress,
            checkpoint_every=every,
            stop=stop,
            state=state,
            world=world,
        )
    except BaseException:
        run_dir.abandon()
        raise


def train_run(
    spec: RunSpec,
    out: Path | None = None,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    checkpoint_every: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> RunResult | None:
    """Train `spec`, save the run in `out` (None: a new dated directory under `runs/`) and score its test set.

    Under `torchrun` (WORLD_SIZE > 1) the processes train one model together (`training.distributed`): rank 0
    writes the run and returns it, the others return None.

    The run is written into `<out>.partial` and renamed into place when complete. Ctrl-C (or `stop()` returning
    True) stops after the current update and leaves a checkpoint there instead (`resume_run`); any other error
    removes it. `checkpoint_every`: also save a checkpoint every that many epochs.

    Raises:
        ValueError: on bad settings or data (before anything is written), or an `out` that holds files and
            `overwrite` is False.
    """
    if checkpoint_every is not None and checkpoint_every < 1:
        raise ValueError(f"Expected checkpoint_every >= 1. Received: {checkpoint_every}")
    with joined() as at:  # under torchrun: this process's rank in the group; else rank 0 of 1
        if at.distributed and checkpoint_every is not None:
            raise ValueError(
                f"Expected no --checkpoint-every for a data-parallel run (it keeps no checkpoint yet). Received: "
                f"{checkpoint_every} with {at.size} processes"
            )
        if out is not None:
            RunDirectory(out).check_target(overwrite=overwrite)  # before the data is read
        streamed = None
        if spec.data is not None:  # text files past a size stream without --stream
            data, streamed = with_auto_stream(spec.data)
            spec = dataclasses.replace(spec, data=data)
        prepared = prepare(spec)
        prepared.notes[:0] = [streamed] if streamed else []
        prepared.description["train"]["world_size"] = at.size
        if at.distributed:
            check_distributable(prepared.model)
        if not at.main:  # the other ranks train their rows and write nothing
            _train_rank(prepared, at, stop)
            return None
        run_dir = RunDirectory(out if out is not None else dated_name(str(prepared.spec.preset)))
        run_dir.begin(overwrite=overwrite)
        return _run_in(
            run_dir, prepared, spec, overwrite=overwrite, every=checkpoint_every, progress=progress, stop=stop, world=at
        )


def _train_rank(prepared: Prepared, at: World, stop: Callable[[], bool] | None) -> None:
    """A rank other than 0 of a data-parallel run: its share of the training, nothing written (its callbacks keep
    their best weights in a scratch directory)."""
    with tempfile.TemporaryDirectory() as scratch, interruptible() as pressed:
        trainer = Trainer(
            prepared.model,
            prepared.train,
            config=prepared.config,
            validation=prepared.validation,
            callbacks=prepared.callbacks(Path(scratch)),
            world=at,
        )
        trainer.run(stop=stop or pressed)


def check_distributable(model: nn.Module) -> None:
    """Raise, in one line, for a model whose training does not split over ranks (`training.distributed`)."""
    for module in model.modules():
        if isinstance(module, BatchNormalization):
            raise ValueError(
                "Expected a model without BatchNormalization for data-parallel training (its batch statistics would "
                "see one rank's rows). Received: a BatchNormalization layer; train it in one process"
            )
        if isinstance(module, LSTM) and module.stateful:
            raise ValueError(
                "Expected a model that is not stateful for data-parallel training (its state follows batch rows "
                "across calls). Received: a stateful LSTM; train it in one process"
            )


def resume_run(path: Path, *, progress: Progress | None = None, stop: Callable[[], bool] | None = None) -> RunResult:
    """Continue the interrupted run at `path` (the run's directory or its `.partial` sibling) from its checkpoint;
    it ends bit for bit where the run would have ended uninterrupted (CPU, the same thread count), in `path`.

    Raises:
        ValueError: if there is no checkpoint to resume from, the training data changed since, or `path` now holds
            another run that the interrupted one was not started to replace (`--overwrite`).
    """
    size = launched_size()
    if size > 1:
        raise ValueError(
            f"Expected --resume in one process (a checkpoint of one). Received: {size} processes (torchrun)"
        )
    run_dir = RunDirectory.of(path)
    tensors, meta = read_checkpoint(run_dir.partial)
    try:
        spec, overwrite = RunSpec.from_json(meta["run"]), bool(meta["overwrite"])
        trainer_state, every, data = meta["trainer"], meta["checkpoint_every"], meta["data"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"Expected a complete checkpoint in {run_dir.partial}. Received: no {error}") from None
    run_dir.check_target(overwrite=overwrite)
    prepared = prepare(spec)
    prepared.description["train"]["world_size"] = 1  # a data-parallel run keeps no checkpoint to resume
    if fingerprint(prepared) != data:
        raise ValueError(
            f"Expected the training data the run began with ({spec.data.path if spec.data else spec.task}). "
            "Received: other data now (a resumed run must see the same examples)"
        )
    state = (tensors, trainer_state)
    return _run_in(run_dir, prepared, spec, overwrite=overwrite, every=every, progress=progress, stop=stop, state=state)
