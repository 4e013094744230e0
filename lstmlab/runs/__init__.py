"""Runs: one training run from what the user asked (`RunSpec`) to a run directory, and using a saved run: the
defaults, the built-in tasks, the pipeline, the directory written as a transaction, loading, evaluating, predicting.
"""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .defaults import TrainChoices
    from .directory import RunDirectory, dated_name
    from .files import layout_run_config, save_model, target_of
    from .pipeline import RunResult, prepare, resume_run, train_run
    from .saved import (
        SavedRun,
        evaluate_run,
        load_run,
        predict_example,
        predict_sequences,
        predict_series,
        predict_texts,
        saved_kind,
    )
    from .sequence_files import model_reads
    from .spec import RunSpec
    from .tasks import TASKS, get_task, parse_task_option, task_config
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = [
    "TASKS",
    "RunDirectory",
    "RunResult",
    "RunSpec",
    "SavedRun",
    "TrainChoices",
    "dated_name",
    "evaluate_run",
    "get_task",
    "layout_run_config",
    "load_run",
    "model_reads",
    "parse_task_option",
    "predict_example",
    "predict_sequences",
    "predict_series",
    "predict_texts",
    "prepare",
    "resume_run",
    "save_model",
    "saved_kind",
    "target_of",
    "task_config",
    "train_run",
]
