"""Looking inside a model: every LSTM value at every step of its inputs, attributions of its predictions, statistics
of its cells over a data set, and `lstmlab inspect RUN`'s figures, numbers and page.
"""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .attributions import Attributed, gauss_legendre, integrated_gradients, occlusion
    from .command import INSPECTION_FILES, inspect_document, inspect_run, write_inspection
    from .figures import attributions_figure, gates_figure, gradient_figure, saturation_figure, write_figures
    from .inputs import PAD_TOKEN, RunInputs, file_inputs, sample_inputs, series_inputs, text_inputs
    from .inspection import DirectionValues, Inspection, ModelScore, SequenceInspection, inspect
    from .page import page_html, write_page
    from .settings import METHODS, STATISTICS_SIZE, STEPS
    from .statistics import cell_statistics, step_features
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = [
    "INSPECTION_FILES",
    "METHODS",
    "PAD_TOKEN",
    "STATISTICS_SIZE",
    "STEPS",
    "Attributed",
    "DirectionValues",
    "Inspection",
    "ModelScore",
    "RunInputs",
    "SequenceInspection",
    "attributions_figure",
    "cell_statistics",
    "file_inputs",
    "gates_figure",
    "gauss_legendre",
    "gradient_figure",
    "inspect",
    "inspect_document",
    "inspect_run",
    "integrated_gradients",
    "occlusion",
    "page_html",
    "sample_inputs",
    "saturation_figure",
    "series_inputs",
    "step_features",
    "text_inputs",
    "write_figures",
    "write_inspection",
    "write_page",
]
