"""`lstmlab tune`: a hyperparameter search on Optuna, its best settings written as an ordinary run.

Every trial is a run of the pipeline (`prepare`, the `Trainer`) with some settings drawn from a search space: it
trains on the training split and is scored on a validation split (fresh examples for a task, never the test set).
Optuna's TPE sampler draws the settings and a median pruner stops a trial whose validation loss, reported after
every epoch (online: every 100 updates), lies above the median of earlier trials at that point. The study lives in a
database (SQLite in the output directory by default); workers started anywhere with the same storage URL and study
name share it. When the trials are done the best settings are trained as an ordinary run (`train_run`: all of the
training data, scored on the test set), and the `lstmlab train` command that repeats that run is returned.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import re
import socket
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..atomic import write_csv, write_json
from ..compare import parse_model
from ..data import DataSpec, SequenceData
from ..models import get_preset, preset_config
from ..runs import RunDirectory, RunResult, RunSpec, TrainChoices, get_task, prepare, task_config, train_run
from ..seeds import Seeds
from ..training import Callback, EarlyStopping, History, TrainConfig, Trainer
from .command import train_command
from .space import TRAINING_NAMES, Dimension, search_space

if TYPE_CHECKING:
    import optuna

__all__ = [
    "TuneRequest",
    "TuneResult",
    "tune",
]

# A fixed training set that keeps all of it for training (no validation split of its own) lends this last share
# to each trial's validation; the run of the best settings trains on all of it again
TRIAL_VALIDATION = 0.2
# A task's validation examples: a stream apart from the test set (seed + 1_000_003) and the training streams
STORAGE_ATTEMPTS = 5  # tries at opening a storage that another worker is setting up
TUNE_ROOT = Path("tune")  # where a study's files go without --out
OPTUNA_MISSING = 'Expected Optuna for `lstmlab tune`: pip install -e ".[tune]". Received: no module named optuna'


@dataclass(frozen=True)
class TuneRequest:
    """What a user asks to tune: a model, its data, the trials, the search space and where the study lives."""

    model: str  # PRESET or PRESET:KEY=VALUE,... (fixed model options, as `compare models` takes them)
    trials: int  # trials this request runs (0: only write the best run of the study as it stands)
    task: str = "cumsum"  # a built-in task (ignored with `data`)
    data: DataSpec | None = None  # the user's texts or series, as `train --data` takes them
    train: TrainChoices = field(default_factory=TrainChoices)  # fixed training settings (e.g. the budget)
    space: tuple[str, ...] = ()  # `--space` entries replacing or adding to the preset's SEARCH_SPACES entry
    seed: int = 0  # every trial's run seed and the sampler's
    storage: str | None = None  # a database URL Optuna takes; None: SQLite in `out` (study.db)
    study: str | None = None  # None: PRESET-TASK or PRESET-DATA
    out: Path | None = None  # None: tune/STUDY
    overwrite: bool = False  # replace the best run in OUT/best
    workers: int = 1  # local processes sharing the trials
    verbose: bool = False  # Optuna's per-trial log lines

    def __post_init__(self) -> None:
        if self.trials < 0:
            raise ValueError(f"Expected trials >= 0. Received: {self.trials}")
        if self.workers < 1:
            raise ValueError(f"Expected workers >= 1. Received: {self.workers}")

    @property
    def preset(self) -> str:
        return parse_model(self.model)[1]

    def base(self) -> RunSpec:
        """The run every trial varies: the model's fixed options, the data, the fixed training settings, the seed."""
        _, preset, options = parse_model(self.model)
        return RunSpec(
            task=self.task, preset=preset, model_options=options, train=self.train, seed=self.seed, data=self.data
        )

    def dimensions(self) -> tuple[Dimension, ...]:
        _, preset, options = parse_model(self.model)
        fixed = (*options, *(n for n in TRAINING_NAMES if getattr(self.train, n) is not None))
        if self.data is not None and self.data.vectors is not None:
            fixed = (*fixed, "embed_dim")  # the vectors' width (--space embed_dim=... is refused as fixed)
        return search_space(preset, self.space, fixed=fixed)

    @property
    def study_name(self) -> str:
        if self.study is not None:
            return self.study
        source = self.task if self.data is None else Path(self.data.path.rstrip("/")).name
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.preset}-{source}")

    @property
    def directory(self) -> Path:
        return self.out if self.out is not None else TUNE_ROOT / self.study_name

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(self.directory / 'study.db').absolute()}"


@dataclass(frozen=True)
class TuneResult:
    """The study after this request's trials, its best trial and the run of the best settings."""

    study: str
    storage: str
    directory: Path  # the study's files: trials.csv, best.json, best/ (and study.db by default)
    states: dict[str, int]  # trials of the study by state (COMPLETE, PRUNED, ...)
    space: tuple[str, ...]  # the settings searched, in the `--space` form
    best_number: int
    best_value: float  # its validation loss
    best_settings: dict[str, Any]
    run: RunResult  # the best settings trained on all of the training data, scored on the test set
    command: list[str]  # `lstmlab train ...` repeating that run (into a new dated directory; add --out to choose)


def with_settings(base: RunSpec, settings: dict[str, Any]) -> RunSpec:
    """`base` with searched settings: training settings into its `TrainChoices`, the rest into the model's
    options."""
    training = {k: v for k, v in settings.items() if k in TRAINING_NAMES}
    model = {k: v for k, v in settings.items() if k not in TRAINING_NAMES}
    return dataclasses.replace(
        base, train=dataclasses.replace(base.train, **training), model_options={**base.model_options, **model}
    )


def _check_corners(base: RunSpec, space: tuple[Dimension, ...]) -> None:
    """Refuse a range the model or the training would refuse: build the preset at each end (each choice) of each
    range, or make the training settings there."""
    assert base.preset is not None
    for dim in space:
        for value in dim.values:
            try:
                if dim.name in TRAINING_NAMES:
                    dataclasses.replace(base.train, **{dim.name: value})
                    budget: dict[str, Any] = {} if dim.name in ("epochs", "updates") else {"epochs": 1}
                    TrainConfig(**{**budget, dim.name: value})
                else:
                    get_preset(base.preset).build(
                        preset_config(base.preset, **with_settings(base, {dim.name: value}).model_options)
                    )
            except ValueError as error:
                raise ValueError(
                    f"Expected --space {dim.text} within what {base.preset} takes. Received: {error}"
                ) from None


class _Pruning(Callback):
    """Reports each epoch's val_loss to the trial and stops training when the pruner says so."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial
        self.pruned = False

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: nn.Module) -> bool:
        self.trial.report(logs["val_loss"], epoch)
        self.pruned = self.trial.should_prune()
        return self.pruned


def _trial_data(prepared: Any, spec: RunSpec) -> tuple[Any, SequenceData | None]:
    """(training data, validation data) of a trial; None: the run's own validation split, held out by the
    `Trainer`."""
    train = prepared.train
    if not isinstance(train, SequenceData):  # online: fresh validation examples, apart from the test set's
        conf = task_config(spec.task, **spec.task_options)
        generator = torch.Generator().manual_seed(Seeds(spec.seed).validation_set)
        return train, get_task(spec.task).sample(conf, spec.test_size, generator)
    if prepared.config.validation_split > 0:
        return train, None
    first, last = train.split(TRIAL_VALIDATION)
    return first, last


def _sampler_seed(seed: int, number: int) -> int:
    """The sampler's seed for trial `number`: trials of one study draw apart however many workers share it."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{number}".encode()).digest()[:4], "little")


def _objective(base: RunSpec, space: tuple[Dimension, ...]) -> Callable[[optuna.Trial], float]:
    library = _optuna()

    def objective(trial: optuna.Trial) -> float:
        # a sampler seeded by the trial's number: one worker repeats its study, several never draw alike
        trial.study.sampler = library.samplers.TPESampler(seed=_sampler_seed(base.seed, trial.number))
        spec = with_settings(base, {dim.name: dim.suggest(trial) for dim in space})
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        prepared = prepare(spec)
        train, validation = _trial_data(prepared, spec)
        pruning = _Pruning(trial)
        callbacks: list[Callback] = [pruning]
        if spec.train.patience is not None:
            callbacks.append(EarlyStopping("val_loss", patience=spec.train.patience, sink=None))
        trainer = Trainer(prepared.model, train, config=prepared.config, validation=validation, callbacks=callbacks)
        history = trainer.run()
        trial.set_user_attr("val_accuracy", history.epochs[-1]["val_accuracy"])
        if pruning.pruned:
            raise library.TrialPruned(f"val_loss {history.epochs[-1]['val_loss']:.4f} at report {trainer.epoch}")
        return _kept_loss(
            history, keeps_best=prepared.config.validation_split > 0 and prepared.config.epochs is not None
        )

    return objective


def _kept_loss(history: History, *, keeps_best: bool) -> float:
    """The validation loss of the model the run keeps: its best epoch's, or its last; a diverged run's is inf."""
    losses = [row["val_loss"] for row in history.epochs]
    value = min(losses) if keeps_best else losses[-1]
    return value if math.isfinite(value) else math.inf


def _optuna() -> Any:
    try:
        import optuna
    except ModuleNotFoundError as error:
        if error.name != "optuna":
            raise
        raise ValueError(OPTUNA_MISSING) from None
    return optuna


def _signature(base: RunSpec, space: tuple[Dimension, ...]) -> dict[str, Any]:
    """What every trial of a study must share: the run varied (data files by name, so that machines may keep
    them in different places) and the search space."""
    run = base.to_json()
    if run["data"] is not None:
        for key in ("path", "test_path"):
            run["data"][key] = None if run["data"][key] is None else Path(run["data"][key]).name
    value: dict[str, Any] = json.loads(json.dumps({"run": run, "space": [d.text for d in space]}))
    return value


def _storage(optuna: Any, url: str, engine: dict[str, Any]) -> Any:
    """Optuna's storage at `url`; a new database's tables are made by whichever worker comes first, and a worker
    that meets them half made tries again."""
    from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError

    for attempt in range(STORAGE_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine)
        except (ArgumentError, ImportError) as error:
            raise ValueError(
                f"Expected a database URL Optuna supports, its driver installed (sqlite:///PATH, postgresql://..., "
                f"mysql://...). Received: {url} ({error})"
            ) from None
        except (IntegrityError, OperationalError):
            if attempt == STORAGE_ATTEMPTS - 1:
                raise
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def _open_study(request: TuneRequest, base: RunSpec, space: tuple[Dimension, ...]) -> Any:
    """The request's study, created or loaded; refused if it was started for another run or space."""
    optuna = _optuna()
    optuna.logging.set_verbosity(optuna.logging.INFO if request.verbose else optuna.logging.WARNING)
    url = request.storage_url
    if request.storage is None:
        request.directory.mkdir(parents=True, exist_ok=True)
    # several processes write one SQLite file: wait for its lock rather than fail after SQLite's 5 s
    engine = {"connect_args": {"timeout": 120}} if url.startswith("sqlite") else {}
    storage = _storage(optuna, url, engine)
    study = optuna.create_study(
        storage=storage,
        study_name=request.study_name,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=_sampler_seed(request.seed, 0)),
        pruner=optuna.pruners.MedianPruner(),  # Optuna's defaults: after 5 finished trials, from the first report
        load_if_exists=True,
    )
    signature, saved = _signature(base, space), study.user_attrs.get("lstmlab")
    if saved is None:
        study.set_user_attr("lstmlab", signature)
    elif saved != signature:
        raise ValueError(
            f"Expected the run and search space study {request.study_name} was started with ({json.dumps(saved)}). "
            f"Received: {json.dumps(signature)}; name another --study"
        )
    return study


def _run_trials(
    request: TuneRequest, count: int, threads: int | None = None, advance: Callable[[int], None] | None = None
) -> int:
    """Run `count` trials of the request's study in this process; returns how many ran."""
    if threads is not None:
        torch.set_num_threads(threads)
    base, space = request.base(), request.dimensions()
    study = _open_study(request, base, space)
    callbacks = [] if advance is None else [lambda study, trial: advance(1)]
    study.optimize(_objective(base, space), n_trials=count, callbacks=callbacks)
    return count


def _shares(trials: int, workers: int) -> list[int]:
    """Trials per worker: as even as can be, none empty."""
    workers = max(1, min(workers, trials))
    return [trials // workers + (i < trials % workers) for i in range(workers)]


def _write_trials(study: Any, directory: Path) -> dict[str, int]:
    """trials.csv (one row per trial: number, state, validation loss and accuracy, reports, seconds, settings);
    returns the count of trials by state."""
    trials = study.get_trials(deepcopy=False)
    names = sorted({name for t in trials for name in t.params})
    rows = []
    for t in sorted(trials, key=lambda t: t.number):
        seconds = None if t.duration is None else t.duration.total_seconds()
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "val_loss": t.value,
                "val_accuracy": t.user_attrs.get("val_accuracy"),
                "reports": len(t.intermediate_values),
                "seconds": seconds,
                "worker": t.user_attrs.get("worker"),
                **{name: t.params.get(name) for name in names},
            }
        )
    write_csv(directory / "trials.csv", rows)
    states: dict[str, int] = {}
    for t in trials:
        states[t.state.name] = states.get(t.state.name, 0) + 1
    return states


def tune(request: TuneRequest, *, advance: Callable[[int], None] | None = None) -> TuneResult:
    """Run the request's trials (in `workers` processes), then train the study's best settings as a run.

    Args:
        request: the model, data, trials, search space, storage and study.
        advance: called with 1 after each trial of this process (with several workers: with each worker's count
            when it ends).

    Returns:
        The `TuneResult`: the study's counts, its best trial, the run of the best settings (OUT/best, scored on the
        test set) and the `lstmlab train` command repeating it.

    Raises:
        ValueError: for a bad model, data, search space or storage, a study started for another run, an OUT/best
            holding a run without `overwrite`, or a study without a completed trial.

    Example:
        >>> result = tune(TuneRequest("tutorial-lstm", trials=20, train=TrainChoices(updates=300)))
        >>> print(result.best_settings, result.run.scores.accuracy, " ".join(result.command))
    """
    _optuna()  # missing: refused before any data is read
    base, space = request.base(), request.dimensions()
    _check_corners(base, space)
    best_dir = request.directory / "best"
    RunDirectory(best_dir).check_target(overwrite=request.overwrite)
    prepare(base)  # bad data or options fail here, before any trial
    study = _open_study(request, base, space)  # created once here, before workers race to create it
    shares = _shares(request.trials, request.workers) if request.trials else []
    if len(shares) == 1:
        _run_trials(request, shares[0], advance=advance)
    elif shares:
        threads = max(1, (os.cpu_count() or 1) // len(shares))
        context = multiprocessing.get_context("spawn")  # fresh interpreters: no forked torch state
        with ProcessPoolExecutor(len(shares), mp_context=context) as pool:
            futures = [pool.submit(_run_trials, request, share, threads) for share in shares]
            for future in futures:
                done = future.result()
                if advance is not None:
                    advance(done)
    states = _write_trials(study, request.directory)
    completed = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if not completed:
        raise ValueError(f"Expected at least one completed trial in study {request.study_name}. Received: {states}")
    best = min(completed, key=lambda t: (t.value, t.number))
    spec = with_settings(base, best.params)
    run = train_run(spec, best_dir, overwrite=request.overwrite)
    if run is None:  # a tuning study runs in one process
        raise ValueError("Expected lstmlab tune in one process. Received: a rank of a torchrun group")
    command = train_command(spec)
    write_json(
        request.directory / "best.json",
        {
            "study": request.study_name,
            "storage": request.storage_url,
            "states": states,
            "best_trial": best.number,
            "val_loss": best.value,
            "settings": best.params,
            "run": str(run.directory),
            "command": command,
            "written": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    return TuneResult(
        request.study_name,
        request.storage_url,
        request.directory,
        states,
        tuple(d.text for d in space),
        best.number,
        best.value,
        dict(best.params),
        run,
        command,
    )
