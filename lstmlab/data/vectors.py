"""Pretrained word vectors (GloVe, word2vec, fastText `.vec`, spaCy), read for one vocabulary.

`read_vectors` streams one file and keeps only the rows whose word is in the vocabulary: memory grows with the
vocabulary (len(words) x d float32, plus a window of a few MiB on the file), never with the file, so a 5 GB file
needs the same few MiB as a 5 MB one. It is written here rather than taken from gensim because gensim is not a
dependency of lstmlab, and its `KeyedVectors.load_word2vec_format` keeps every row of the file (its `limit=` keeps
the first rows, not the ones a vocabulary needs). Only the kept rows are parsed: every other row costs a split at
its first space, a count of its values and one dictionary look-up.

Formats (`.gz` files are recognised by their magic bytes 1f 8b and decompressed while streaming):

- `glove`: `word v1 ... vd` per line, no header (GloVe's `.txt`).
- `word2vec-text`: a header line `count dimension`, then `word v1 ... vd` per line (word2vec's `-binary 0`, and
  fastText's `.vec`, whose lines end in a space).
- `word2vec-binary`: the header line `count dimension`, then per word its UTF-8 bytes up to a space and
  `dimension` little-endian float32 (word2vec and gensim write a newline after each vector; white space before a
  word is skipped, so files with and without it read alike).

- `spacy`: a spaCy pipeline's folder (its `vocab/`) or a vectors folder (`vectors`, `key2row`, `vectors.cfg`, as
  `Vectors.to_disk` writes it), read through spaCy itself (the optional extra `lstmlab[spacy]`): its format is
  spaCy's to define, and its table maps hashed strings to rows, which only spaCy's hash reproduces. spaCy loads the
  table whole; its tables are pruned (en_core_web_md: 20,000 rows of 300 for 685k strings), so that is tens of MB.
  A word missing from the table is looked up in the strings spaCy keeps (`strings.json`), lower-cased where
  `lower` is set, as a file's rows are.

Detection (`format="auto"`): a folder is `spacy`. For a file, a first line of exactly two decimal integers is a
header, any other first line is a GloVe row. After a header the file is binary when its next line (the bytes up to
the next newline) holds something a text row never holds: bytes that are not UTF-8, or a control character other
than tab and carriage return; otherwise it is text. Float32 bytes almost always hold one (zeros, the exponent bytes
of small values, or any of 256 values in each of the first vector's 4d bytes); a binary file whose first vector's
bytes all happen to be printable text (possible for tiny d) reads as text and fails there unless every record also
reads as a valid text row. Detection leans that way on purpose: a text file taken for binary could read as silent
garbage. Name the format (`format="word2vec-binary"`, ...) to skip detection.

What is checked, each as a one-line `ValueError` naming the file and the line (or byte offset, counted in the
decompressed data of a `.gz`): UTF-8; the number of values on every row; float values that are finite in float32
on the kept rows (the other rows are never parsed: that is the speed); each word at most once among the rows
whose word is kept (remembering the others would cost memory growing with the file); the header's count against
the rows; a truncated binary record; the dimension within 1..MAX_DIMENSION before anything is allocated from it.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import re
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["FORMATS", "MAX_DIMENSION", "FoundVectors", "VectorFormat", "read_vectors"]

VectorFormat = Literal["auto", "glove", "word2vec-text", "word2vec-binary", "spacy"]
FORMATS: tuple[VectorFormat, ...] = ("auto", "glove", "word2vec-text", "word2vec-binary", "spacy")
MAX_DIMENSION = 10_000  # published vectors have 25..1000 dimensions: a larger header is damage, not vectors

_CHUNK = 1 << 20  # bytes read at once
_PENDING = 8  # chunks waiting to be hashed
_MAX_LINE = 1 << 22  # characters of one text row: 10,000 values of 20 characters fit 20 times
_MAX_WORD = 1 << 16  # bytes of one binary word (word2vec's own limit is 100)
_HEADER = re.compile(rb"(\d{1,19})[ \t]+(\d{1,19})")  # ASCII digits only; 19 digits stay below 2**63
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x0c\x0e-\x1f\x7f]")  # in no text row (tab and CR may end one)
_SPACE = b" \t\r\n"
_RECORD = re.compile(rb"[ \t\r\n]*([^ \t\r\n][^ ]{0,%d}) " % (_MAX_WORD - 1))  # white space, a word, its space
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True, eq=False)
class FoundVectors:
    """The vectors of a vocabulary's words found in one file, and where they came from.

    Shapes:
        matrix (V, D) float32, row i the vector of words[i] (zeros where not found); found (V,) bool.
    """

    words: tuple[str, ...]  # the vocabulary asked for, in its order
    matrix: npt.NDArray[np.float32]  # read-only
    found: npt.NDArray[np.bool_]  # read-only
    dimension: int  # D
    rows_read: int  # rows in the file, kept or not
    format: VectorFormat  # the format read (never "auto")
    source: str  # the file's name
    size: int  # bytes on disk (compressed, for a .gz)
    sha256: str  # of the bytes on disk, hashed while they were read

    def coverage(self, counts: Mapping[str, int]) -> tuple[float, float]:
        """The share of the vocabulary's words found, and the share of the tokens counted in `counts` (a training
        split's token counts: words outside the vocabulary count as not found, as they read as OOV)."""
        total = sum(counts.values())
        if total <= 0:
            raise ValueError(f"Expected token counts with a positive total. Received: {total} tokens")
        found_tokens = sum(counts.get(word, 0) for word, hit in zip(self.words, self.found, strict=True) if hit)
        return float(self.found.mean()), found_tokens / total


class _Header(NamedTuple):
    rows: int
    dimension: int


def read_vectors(
    path: Path,
    words: Sequence[str],
    *,
    lower: bool = False,
    dimension: int | None = None,
    format: VectorFormat = "auto",
) -> FoundVectors:
    """Read the vectors of `words` from one GloVe, word2vec (text or binary) or fastText `.vec` file, plain or gzip,
    or from a spaCy folder.

    Args:
        path: the file, streamed once, never held whole; or a spaCy pipeline's or vectors folder.
        words: the vocabulary (distinct words), e.g. `Vocabulary.words`; row i of the matrix is `words[i]`.
        lower: lower-case each word of the file before looking it up, as the tokenizer's `lower=True` does. Rows
            that lower-casing makes equal ("The", "the") keep the first met; the same word twice in the file is
            still an error.
        dimension: the dimension the caller needs; a file of another raises.
        format: "auto" (detected: see the module) or the format to read.

    Shapes:
        matrix (V, D) with V = len(words) and D the file's dimension.

    Returns:
        A `FoundVectors`: the matrix, which words were found, and the file's format, size and SHA-256.

    Raises:
        ValueError: bad arguments, or a file that is not a vectors file in the format (one line: the file and the
            line or byte offset), or a file holding none of the words.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.txt"
        >>> _ = path.write_text("the 0.5 -1.0\\ncat 2.0 0.25\\n", encoding="utf-8")
        >>> vectors = read_vectors(path, ["cat", "dog"])
        >>> vectors.matrix.tolist(), vectors.found.tolist(), vectors.format, vectors.rows_read
        ([[2.0, 0.25], [0.0, 0.0]], [True, False], 'glove', 2)
    """
    path = Path(path)
    _check_arguments(words, dimension, format)
    table = _Table(words, lower=lower, name=str(path))
    if path.is_dir() or format == "spacy":
        return _read_spacy(path, table, dimension)
    size = path.stat().st_size
    with _Stream(path) as stream:
        found_format, header = _detect(stream, format)
        if header is not None:
            _check_dimension(header.dimension, dimension, f"the header of {stream.name}")
        if found_format == "word2vec-binary":
            assert header is not None  # _detect gives binary only after a header
            rows = _read_binary(stream, table, header)
        else:
            rows = _read_text(stream, table, header, dimension)
        digest = stream.finish()
    return table.result(path, rows, found_format, size, digest)


def _check_arguments(words: Sequence[str], dimension: int | None, format: str) -> None:
    if format not in FORMATS:
        raise ValueError(f"Expected format in {FORMATS}. Received: format={format!r}")
    if dimension is not None and not 1 <= dimension <= MAX_DIMENSION:
        raise ValueError(f"Expected dimension in 1..{MAX_DIMENSION} or None. Received: dimension={dimension!r}")
    if not words:
        raise ValueError("Expected at least one word to look up. Received: words=[]")
    if len(set(words)) != len(words):
        twice = next(word for word, n in Counter(words).items() if n > 1)
        raise ValueError(f"Expected distinct words. Received: {twice!r} more than once")


def _check_dimension(found: int, wanted: int | None, where: str) -> None:
    if not 1 <= found <= MAX_DIMENSION:
        raise ValueError(f"Expected a dimension in 1..{MAX_DIMENSION} in {where}. Received: {found}")
    if wanted is not None and found != wanted:
        raise ValueError(f"Expected dimension={wanted} in {where}. Received: {found}")


class _Hashing:
    """A file read through, its bytes hashed on the way (what gzip reads from, for a .gz).

    The hash runs in a thread of its own (hashlib releases the GIL on large buffers), beside the parsing: hashed
    inline it took 0.6 s of a 4.1 s read of a 1 GiB file (`benchmarks/vectors_read.py`). At most `_PENDING` chunks
    wait for it, so memory stays a few MiB whatever the file."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self._digest = hashlib.sha256()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="lstmlab-vectors-hash")
        self._pending: deque[Future[None]] = deque()

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        if data:
            if len(self._pending) >= _PENDING:
                self._pending.popleft().result()
            self._pending.append(self._thread.submit(self._digest.update, data))
        return data

    def hexdigest(self) -> str:
        """The hash of every byte read so far (waits for the thread)."""
        while self._pending:
            self._pending.popleft().result()
        return self._digest.hexdigest()

    def close(self) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)

    def seek(self, offset: int, /) -> object:
        raise io.UnsupportedOperation("the data is hashed as read: it reads forward only")


class _Stream:
    """The data of one file, decompressed when it is gzip, read in chunks; bytes can be put back once read."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self._file = open(path, "rb")  # noqa: SIM115 (closed by __exit__)
        self.gzip = self._file.peek(2)[:2] == b"\x1f\x8b"
        self._raw = _Hashing(self._file)
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="rb") if self.gzip else None
        self._back = b""

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._gzip is not None:
            self._gzip.close()
        self._raw.close()
        self._file.close()

    def at(self, offset: int) -> str:
        return f"byte {offset}{' (decompressed)' if self.gzip else ''}"

    def where(self, offset: int) -> str:
        return f"{self.at(offset)} of {self.name}"

    def read(self, size: int = _CHUNK) -> bytes:
        """Some bytes (at most `size` unless some were put back); b"" at the end."""
        if self._back:
            data, self._back = self._back, b""
            return data
        try:
            return (self._raw if self._gzip is None else self._gzip).read(size)
        except (OSError, EOFError, zlib.error) as error:
            if not self.gzip:
                raise
            raise ValueError(f"Expected a complete gzip file {self.name}. Received: {error}") from None

    def unread(self, data: bytes) -> None:
        self._back = data + self._back

    def finish(self) -> str:
        """The SHA-256 of the file's bytes, after reading whatever the parser left (a .gz's trailer)."""
        while self._raw.read(_CHUNK):
            pass
        return self._raw.hexdigest()


def _detect(stream: _Stream, requested: VectorFormat) -> tuple[VectorFormat, _Header | None]:
    """The format and the header, from the first two lines (put back for the parser)."""
    head = b""
    while head.count(b"\n") < 2 and len(head) < 2 * _MAX_LINE:
        data = stream.read()
        if not data:
            break
        head += data
    stream.unread(head)
    if not head.strip():
        raise ValueError(f"Expected word vectors in {stream.name}. Received: an empty file")
    first, _, rest = head.removeprefix(codecs.BOM_UTF8).partition(b"\n")
    header = None if requested == "glove" else _header(first)
    if header is None:
        if requested != "auto" and requested != "glove":
            shown = first[:60].decode("utf-8", "replace")
            raise ValueError(f"Expected a header 'count dimension' on line 1 of {stream.name}. Received: {shown!r}")
        return "glove", None
    if requested != "auto":
        return requested, header
    return ("word2vec-text" if _reads_as_text(rest.partition(b"\n")[0]) else "word2vec-binary"), header


def _header(line: bytes) -> _Header | None:
    match = _HEADER.fullmatch(line.strip())
    return None if match is None else _Header(int(match[1]), int(match[2]))


def _reads_as_text(line: bytes) -> bool:
    try:
        return _CONTROL.search(line.decode("utf-8")) is None
    except UnicodeDecodeError:
        return False


class _Table:
    """The kept rows, one per vocabulary word, filled as the file meets them."""

    def __init__(self, words: Sequence[str], *, lower: bool, name: str) -> None:
        self.words = tuple(words)
        self.index = {word: i for i, word in enumerate(words)}
        self.lower = lower
        self.name = name
        self.found = np.zeros(len(words), dtype=np.bool_)
        self.matrix = np.zeros((len(words), 0), dtype=np.float32)
        self._first: dict[str, str] = {}  # each kept word as the file spells it -> where the file gave it

    def result(self, path: Path, rows: int, format: VectorFormat, size: int, digest: str) -> FoundVectors:
        """The table, made read-only, as what was found; raises if nothing was."""
        if not self.found.any():
            raise ValueError(
                f"Expected at least one of the {len(self.found)} words in {path}. Received: none of its {rows} rows "
                f"(lower={self.lower})"
            )
        self.matrix.setflags(write=False)
        self.found.setflags(write=False)
        return FoundVectors(
            self.words, self.matrix, self.found, self.matrix.shape[1], rows, format, path.name, size, digest
        )

    def allocate(self, dimension: int) -> None:
        self.matrix = np.zeros((len(self.found), dimension), dtype=np.float32)  # (V, D)

    def claim(self, i: int, word: str, where: str) -> bool:
        """Whether row i takes the file's row for `word` (not when lower-casing made an earlier row its word)."""
        if word in self._first:
            raise ValueError(
                f"Expected each word once in {self.name}. Received: {word!r} at {self._first[word]} and at {where}"
            )
        self._first[word] = where
        if self.found[i]:
            return False
        self.found[i] = True
        return True


def _read_text(stream: _Stream, table: _Table, header: _Header | None, wanted: int | None) -> int:
    """Fill the table from a text file; the number of rows."""
    d = 0 if header is None else header.dimension
    if d:
        table.allocate(d)
    rows = 0
    for first, lines in _line_batches(stream):
        if first == 1 and header is not None:
            first, lines = 2, lines[1:]
        if not d:  # GloVe: the first row says the dimension
            d = _first_dimension(lines, first, stream.name, wanted)
            if d:
                table.allocate(d)
        rows += _read_lines(lines, first, d, table, stream.name, header)
    if header is not None and rows != header.rows:
        raise ValueError(f"Expected {header.rows} rows (the header's count) in {stream.name}. Received: {rows}")
    return rows


def _first_dimension(lines: list[str], first: int, name: str, wanted: int | None) -> int:
    """The number of values on the first row among `lines` (0 if they are all blank)."""
    for number, raw in enumerate(lines, first):
        if line := raw.rstrip():
            values = line.partition(" ")[2]
            d = values.count(" ") + 1 if values else 0
            _check_dimension(d, wanted, f"line {number} of {name}")
            return d
    return 0


def _read_lines(lines: list[str], first: int, d: int, table: _Table, name: str, header: _Header | None) -> int:
    """Fill the table from these lines (numbered from `first`); the number of rows among them.

    Every row has its values counted; only a kept row has them parsed."""
    index, lower, matrix = table.index, table.lower, table.matrix
    rows = 0
    for number, raw in enumerate(lines, first):
        line = raw.rstrip()
        if not line:
            continue  # blank lines (a last empty line, CRLF files' ends) are no rows
        word, _, values = line.partition(" ")
        if values.count(" ") != d - 1 or not values or not word:
            raise _bad_row(line, d, number, name, header)
        rows += 1
        i = index.get(word.lower() if lower else word)
        if i is not None and table.claim(i, word, f"line {number}"):
            matrix[i] = _floats(values, f"line {number} of {name}")
    return rows


def _line_batches(stream: _Stream) -> Iterator[tuple[int, list[str]]]:
    """The file's lines as text, a chunk's worth at a time, each batch with its first line's number (from 1)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()  # a byte order mark (Windows editors) is no word
    pending, number = "", 0
    while True:
        data = stream.read()
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            at = number + 1 + data[: max(error.start, 0)].count(b"\n")
            bad = error.object[error.start : error.end]
            raise ValueError(
                f"Expected UTF-8 text in {stream.name}. Received: bytes {bad!r} that are not UTF-8 on line {at}"
            ) from None
        if not data:
            if pending:
                yield number + 1, [pending]
            return
        lines = (pending + text).split("\n")
        pending = lines.pop()
        if len(pending) > _MAX_LINE:
            raise ValueError(
                f"Expected lines of at most {_MAX_LINE} characters in {stream.name}. Received: line "
                f"{number + len(lines) + 1} is longer"
            )
        yield number + 1, lines
        number += len(lines)


def _bad_row(line: str, d: int, number: int, name: str, header: _Header | None) -> ValueError:
    word, _, values = line.partition(" ")
    if not word:
        return ValueError(f"Expected a word first on line {number} of {name}. Received: a line starting with a space")
    told = " (the header's dimension)" if header is not None else " (the first row's)"
    count = len(values.split(" ")) if values else 0
    return ValueError(f"Expected {d} values{told} on line {number} of {name}. Received: {count} after {word[:40]!r}")


def _floats(values: str, where: str) -> npt.NDArray[np.float32]:
    """One row's values, parsed in float64 and checked to fit float32 (a cast would turn 1e39 into inf)."""
    fields = values.split(" ")
    try:
        parsed = np.array(fields, dtype=np.float64)
    except ValueError:
        bad = next((field for field in fields if not _is_float(field)), values[:40])
        raise ValueError(f"Expected float values on {where}. Received: {bad[:40]!r}") from None
    fits = np.abs(parsed) <= _FLOAT32_MAX  # False for nan, inf and overflow
    if not fits.all():
        bad = fields[int(np.argmin(fits))]
        raise ValueError(f"Expected finite float32 values on {where}. Received: {bad[:40]!r}")
    return parsed.astype(np.float32)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _Window:
    """A window on a binary file's data: the bytes from `pos` on, with `base` the data offset of the window's start."""

    def __init__(self, stream: _Stream) -> None:
        self.stream = stream
        self.data = b""
        self.pos = 0
        self.base = 0

    def where(self, pos: int) -> str:
        return self.stream.where(self.base + pos)

    def fill(self, size: int) -> bool:
        """Whether `size` bytes from pos are in the window (read more if needed); False if the data ends first."""
        while len(self.data) - self.pos < size:
            more = self.stream.read(max(_CHUNK, size))
            if not more:
                return False
            self.data = self.data[self.pos :] + more
            self.base += self.pos
            self.pos = 0
        return True

    def skip_line(self) -> None:
        while (end := self.data.find(b"\n", self.pos)) < 0:
            if not self.fill(len(self.data) - self.pos + 1):
                raise ValueError(f"Expected rows after the header in {self.stream.name}. Received: the header only")
        self.pos = end + 1

    def record(self, size: int) -> re.Match[bytes] | None:
        """The next word, with `size` bytes after its space in the window; None if only white space is left."""
        while True:
            match = _RECORD.match(self.data, self.pos)
            if match is not None and match.end() + size <= len(self.data):
                return match
            if match is None:  # white space, then no word yet: drop the white space
                self.pos = len(self.data) - len(self.data[self.pos :].lstrip(_SPACE))
            available = len(self.data) - self.pos
            if match is None and available > _MAX_WORD:
                raise ValueError(
                    f"Expected a word of at most {_MAX_WORD} bytes at {self.where(self.pos)}. Received: no space "
                    "within them"
                )
            if not self.fill(available + 1):
                self._check_end(size)
                return None

    def _check_end(self, size: int) -> None:
        """At the end of the data: raise unless nothing but white space is left."""
        rest = self.data[self.pos :].lstrip(_SPACE)
        if not rest:
            return
        match = _RECORD.match(self.data, self.pos)
        if match is None:
            raise ValueError(
                f"Expected a word and a space at {self.where(len(self.data) - len(rest))}. Received: the data ends "
                f"after {len(rest)} bytes"
            )
        word = match[1][:40].decode("utf-8", "replace")
        raise ValueError(
            f"Expected {size} bytes of float32 after {word!r} at {self.where(match.end())}. Received: "
            f"{len(self.data) - match.end()} (the file is truncated)"
        )


def _read_binary(stream: _Stream, table: _Table, header: _Header) -> int:
    """Fill the table from a word2vec binary file; the number of rows."""
    window = _Window(stream)
    window.skip_line()  # the header
    index, lower, d = table.index, table.lower, header.dimension
    table.allocate(d)
    size = 4 * d  # bytes of one vector
    rows = 0
    while rows < header.rows:
        match = _RECORD.match(window.data, window.pos)
        if match is None or match.end() + size > len(window.data):  # the record runs past the window
            match = window.record(size)
            if match is None:
                raise ValueError(
                    f"Expected {header.rows} rows (the header's count) in {stream.name}. Received: {rows}, the "
                    f"data ends at {window.where(len(window.data))}"
                )
        word = _decoded(match[1], window, match.start(1))
        i = index.get(word.lower() if lower else word)
        if i is not None and table.claim(i, word, stream.at(window.base + match.start(1))):
            table.matrix[i] = _vector(window, match.end(), d)
        window.pos = match.end() + size
        rows += 1
    if window.record(0) is not None:
        raise ValueError(
            f"Expected {header.rows} rows (the header's count) in {stream.name}. Received: more data at "
            f"{window.where(window.pos)}"
        )
    return rows


def _decoded(word: bytes, window: _Window, pos: int) -> str:
    try:
        return word.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"Expected a UTF-8 word at {window.where(pos)}. Received: {word[:40]!r}") from None


def _vector(window: _Window, pos: int, d: int) -> npt.NDArray[np.float32]:
    vector = np.frombuffer(window.data, dtype="<f4", count=d, offset=pos)
    if not np.isfinite(vector).all():
        bad = float(vector[int(np.argmin(np.isfinite(vector)))])
        raise ValueError(f"Expected finite float32 values at {window.where(pos)}. Received: {bad}")
    return vector.astype(np.float32)


_SPACY_FILES = ("vectors", "key2row", "vectors.cfg")  # what Vectors.to_disk writes (key2row: not for floret tables)


def _spacy_folder(path: Path) -> Path:
    """The folder holding the vectors table: `path` itself or a pipeline's `vocab/`."""
    for folder in (path / "vocab", path):
        if (folder / "vectors").is_file() and (folder / "vectors.cfg").is_file():
            return folder
    raise ValueError(
        f"Expected a vectors file, or a spaCy pipeline or vectors folder (vectors and vectors.cfg in it or in its "
        f"vocab/). Received: {path}, {'a folder without them' if path.is_dir() else 'no folder'}"
    )


def _read_spacy(path: Path, table: _Table, wanted: int | None) -> FoundVectors:
    """Fill the table from a spaCy folder, through spaCy."""
    folder = _spacy_folder(path)
    try:
        from spacy.strings import get_string_id
        from spacy.vectors import Vectors
    except ImportError:
        raise ValueError(
            f"Expected spaCy installed to read the spaCy folder {path} (pip install 'lstmlab[spacy]'). Received: "
            "no module spacy"
        ) from None
    try:
        vectors = Vectors().from_disk(folder)
    except Exception as error:  # spaCy, srsly and NumPy raise many types for a damaged folder
        raise ValueError(f"Expected a spaCy vectors table in {folder}. Received: {type(error).__name__}") from None
    rows, d = vectors.shape
    _check_dimension(int(d), wanted, f"the spaCy table of {folder}")
    table.allocate(int(d))
    data = np.asarray(vectors.data, dtype=np.float32)
    if vectors.mode == "floret":  # subword hashing: every string has a vector
        table.matrix[:] = np.asarray(vectors.get_batch(list(table.index)), dtype=np.float32)
        table.found[:] = True
    else:
        for word, i in table.index.items():
            row = vectors.key2row.get(get_string_id(word), -1)
            if row >= 0:
                table.found[i] = True
                table.matrix[i] = data[row]
        if table.lower and not table.found.all():
            _lower_case_strings(folder, vectors.key2row, data, table, get_string_id)
    if not np.isfinite(table.matrix).all():
        raise ValueError(f"Expected finite float32 values in the spaCy table of {folder}. Received: NaN or infinity")
    files = [folder / name for name in _SPACY_FILES if (folder / name).is_file()]
    digest = hashlib.sha256()
    for file in files:
        with open(file, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    size = sum(file.stat().st_size for file in files)
    return table.result(path, int(rows), "spacy", size, digest.hexdigest())


def _lower_case_strings(
    folder: Path,
    key2row: Mapping[int, int],
    data: npt.NDArray[np.float32],
    table: _Table,
    key: Callable[[str], int],
) -> None:
    """Words not in the table as they are: the first string spaCy keeps that lower-cases to them and has a row."""
    strings = folder / "strings.json"
    if not strings.is_file():
        return
    try:
        known = json.loads(strings.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"Expected a JSON list of strings in {strings}. Received: a file that is not") from None
    for string in known if isinstance(known, list) else []:
        if not isinstance(string, str):
            continue
        i = table.index.get(string.lower())
        if i is not None and not table.found[i]:
            row = key2row.get(key(string), -1)
            if row >= 0:
                table.found[i] = True
                table.matrix[i] = data[row]
