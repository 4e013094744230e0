"""Looking inside a model: every LSTM value at every step of its inputs, attributions of its predictions, statistics
of its cells over a data set, and `lstmlab inspect RUN`'s figures, numbers and page.
"""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .attributions import Attributed, gauss_legendre, integrated_gradients, occlusion
    from .figures import attributions_figure, gates_figure, gradient_figure, saturation_figure, write_figures
    from .inspection import METHODS, DirectionValues, Inspection, ModelScore, SequenceInspection, inspect
    from .page import page_html, write_page
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = [
    "METHODS",
    "Attributed",
    "DirectionValues",
    "Inspection",
    "ModelScore",
    "SequenceInspection",
    "attributions_figure",
    "gates_figure",
    "gauss_legendre",
    "gradient_figure",
    "inspect",
    "integrated_gradients",
    "occlusion",
    "page_html",
    "saturation_figure",
    "write_figures",
    "write_page",
]
