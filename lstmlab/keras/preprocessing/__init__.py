"""Keras 2's preprocessing: `sequence.pad_sequences` and `text.Tokenizer`, with Keras's arguments and defaults."""

from . import sequence, text
from .sequence import pad_sequences
from .text import Tokenizer, text_to_word_sequence

__all__ = ["Tokenizer", "pad_sequences", "sequence", "text", "text_to_word_sequence"]
