"""Data: the batch type every room shares (`SequenceData`, `BatchStream`), the built-in generated problems, and the
user's own texts and series: what they asked for (`DataSpec`), read from files, split, encoded or streamed; pretrained
word vectors read for a vocabulary (`read_vectors`).
"""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .cumsum import CumsumConfig, make_cumsum
    from .datasets import (
        DataSets,
        Encoder,
        encoder_from_json,
        load_series_split,
        load_split,
        prepare_data,
        saved_test_set,
        scan_corpus,
        stratified_split,
        streamed_sets,
        with_auto_stream,
    )
    from .loaders import TEXT_FORMATS, lines, load_texts, read_text, read_texts
    from .sequence import BatchStream, OnlineSource, SequenceData
    from .series import SeriesScaler, check_series, load_series
    from .spec import (
        SERIES_FORMATS,
        STREAM_FORMATS,
        VECTORS_MISSING,
        VECTORS_MODES,
        DataSpec,
        StreamSettings,
        TextSettings,
        VectorSettings,
        is_aeon,
    )
    from .stream import CorpusScan, describe_scan
    from .text import OOV, TextEncoder, tokenize
    from .tokens import TokenConfig, make_tokens
    from .vectors import FoundVectors, read_vectors
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = [
    "OOV",
    "SERIES_FORMATS",
    "STREAM_FORMATS",
    "TEXT_FORMATS",
    "VECTORS_MISSING",
    "VECTORS_MODES",
    "BatchStream",
    "CorpusScan",
    "CumsumConfig",
    "DataSets",
    "DataSpec",
    "Encoder",
    "FoundVectors",
    "OnlineSource",
    "SequenceData",
    "SeriesScaler",
    "StreamSettings",
    "TextEncoder",
    "TextSettings",
    "TokenConfig",
    "VectorSettings",
    "check_series",
    "describe_scan",
    "encoder_from_json",
    "is_aeon",
    "lines",
    "load_series",
    "load_series_split",
    "load_split",
    "load_texts",
    "make_cumsum",
    "make_tokens",
    "prepare_data",
    "read_text",
    "read_texts",
    "read_vectors",
    "saved_test_set",
    "scan_corpus",
    "stratified_split",
    "streamed_sets",
    "tokenize",
    "with_auto_stream",
]
