"""Data: the batch type every room shares (`SequenceData`), the built-in generated problems, and the user's own
texts and series read from files, split and encoded."""

from .cumsum import CumsumConfig, make_cumsum
from .sequence import BatchStream, OnlineSource, SequenceData
from .tokens import TokenConfig, make_tokens

__all__ = ["BatchStream", "CumsumConfig", "OnlineSource", "SequenceData", "TokenConfig", "make_cumsum", "make_tokens"]
