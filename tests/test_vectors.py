"""read_vectors: every format and its .gz to the values written, only the vocabulary kept, lower-casing, coverage,
the file's hash; each bad input one ValueError naming the file; memory bounded by the vocabulary, not the file.

The oracle is the values the tests write: text with `%.9g` (which round-trips float32 exactly), binary as raw
little-endian float32, by writers here that share nothing with the reader.
"""

import gzip
import hashlib
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lstmlab.data.vectors import MAX_DIMENSION, FoundVectors, read_vectors

FILE_WORDS = ["the", "cat", "sat", "on", "a", "mat", "café"]
VALUES = np.random.default_rng(0).standard_normal((len(FILE_WORDS), 5)).astype(np.float32)  # (7, 5)
ASKED = ["mat", "zebra", "the", "café", "dog", "cat"]  # not the file's order; zebra and dog are missing


def text_rows(words: list[str], values: np.ndarray, *, header: bool = False, end: str = "") -> bytes:
    lines = [f"{len(words)} {values.shape[1]}"] if header else []
    lines += [" ".join([word, *(f"{v:.9g}" for v in row)]) + end for word, row in zip(words, values, strict=True)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def binary_rows(words: list[str], values: np.ndarray, *, newline: bool = True, rows: int | None = None) -> bytes:
    out = [f"{len(words) if rows is None else rows} {values.shape[1]}\n".encode()]
    for word, row in zip(words, values, strict=True):
        out.append(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() + (b"\n" if newline else b""))
    return b"".join(out)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def expected(words: list[str], file_words: list[str] = FILE_WORDS, values: np.ndarray = VALUES) -> np.ndarray:
    out = np.zeros((len(words), values.shape[1]), dtype=np.float32)
    for i, word in enumerate(words):
        if word in file_words:
            out[i] = values[file_words.index(word)]
    return out


FORMATS: dict[str, tuple[Callable[[], bytes], str]] = {
    "glove": (lambda: text_rows(FILE_WORDS, VALUES), "glove"),
    "word2vec-text": (lambda: text_rows(FILE_WORDS, VALUES, header=True), "word2vec-text"),
    "fasttext-vec": (lambda: text_rows(FILE_WORDS, VALUES, header=True, end=" "), "word2vec-text"),  # lines end in " "
    "crlf-glove": (lambda: text_rows(FILE_WORDS, VALUES).replace(b"\n", b"\r\n"), "glove"),
    "crlf-word2vec-text": (lambda: text_rows(FILE_WORDS, VALUES, header=True).replace(b"\n", b"\r\n"), "word2vec-text"),
    "glove-bom": (lambda: b"\xef\xbb\xbf" + text_rows(FILE_WORDS, VALUES), "glove"),
    "word2vec-text-bom": (lambda: b"\xef\xbb\xbf" + text_rows(FILE_WORDS, VALUES, header=True), "word2vec-text"),
    "glove-blank-lines": (
        lambda: (
            b"\n".join(text_rows(FILE_WORDS, VALUES).split(b"\n")[:3])
            + b"\n\n  \n"
            + b"\n".join(text_rows(FILE_WORDS, VALUES).split(b"\n")[3:])
            + b"\n\n"
        ),
        "glove",
    ),
    "word2vec-binary": (lambda: binary_rows(FILE_WORDS, VALUES), "word2vec-binary"),
    "binary-no-newline": (lambda: binary_rows(FILE_WORDS, VALUES, newline=False), "word2vec-binary"),
    "binary-blank-end": (lambda: binary_rows(FILE_WORDS, VALUES) + b"\n" * 100_000, "word2vec-binary"),  # past a window
}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_reads_the_values_written(tmp_path: Path, name: str, compress: bool) -> None:
    build, format_name = FORMATS[name]
    data = build()
    path = write(tmp_path, f"vectors-{name}{'.gz' if compress else ''}", gzip.compress(data) if compress else data)
    vectors = read_vectors(path, ASKED)
    np.testing.assert_array_equal(vectors.matrix, expected(ASKED))  # exact: float32 written, float32 read
    assert vectors.matrix.dtype == np.float32
    assert vectors.found.tolist() == [True, False, True, True, False, True]
    assert (vectors.format, vectors.dimension, vectors.rows_read) == (format_name, 5, len(FILE_WORDS))
    assert vectors.source == path.name
    # the format named reads the same (no detection)
    again = read_vectors(path, ASKED, format=format_name)  # type: ignore[arg-type]
    np.testing.assert_array_equal(again.matrix, vectors.matrix)


def test_only_vocabulary_words_are_kept_in_the_vocabulary_order(tmp_path: Path) -> None:
    path = write(tmp_path, "glove.txt", text_rows(FILE_WORDS, VALUES))
    asked = ["on", "dog", "the"]
    vectors = read_vectors(path, asked)
    assert vectors.words == ("on", "dog", "the")
    np.testing.assert_array_equal(vectors.matrix[0], VALUES[3])
    np.testing.assert_array_equal(vectors.matrix[1], np.zeros(5, np.float32))
    np.testing.assert_array_equal(vectors.matrix[2], VALUES[0])
    assert vectors.found.tolist() == [True, False, True]
    assert vectors.matrix.shape == (3, 5)
    with pytest.raises(ValueError, match="read-only"):
        vectors.matrix[0, 0] = 1.0


@pytest.mark.parametrize("kind", ["text", "binary"])
def test_lower_maps_each_row_to_its_lower_cased_word_and_keeps_the_first(tmp_path: Path, kind: str) -> None:
    words = ["The", "the", "CAT", "Mat"]
    values = VALUES[:4]
    data = text_rows(words, values) if kind == "text" else binary_rows(words, values)
    path = write(tmp_path, f"cased.{kind}", data)
    lowered = read_vectors(path, ["the", "cat", "mat"], lower=True)
    np.testing.assert_array_equal(lowered.matrix, values[[0, 2, 3]])  # "The" met before "the" wins
    exact = read_vectors(path, ["the", "cat", "mat"])
    np.testing.assert_array_equal(exact.matrix[0], values[1])
    assert exact.found.tolist() == [True, False, False]


def test_lower_still_refuses_the_same_word_twice(tmp_path: Path) -> None:
    path = write(tmp_path, "twice.txt", text_rows(["The", "the", "The"], VALUES[:3]))
    with pytest.raises(
        ValueError, match=r"Expected each word once in .*twice\.txt\. Received: 'The' at line 1 and at line 3"
    ):
        read_vectors(path, ["the"], lower=True)


def test_coverage_counts_words_and_tokens(tmp_path: Path) -> None:
    path = write(tmp_path, "glove.txt", text_rows(FILE_WORDS, VALUES))
    vectors = read_vectors(path, ["the", "cat", "zebra", "dog"])
    counts = {"the": 50, "cat": 10, "zebra": 15, "dog": 5, "outside": 20}  # "outside": a token beyond the vocabulary
    assert vectors.coverage(counts) == (0.5, 0.6)
    with pytest.raises(ValueError, match="Expected token counts with a positive total"):
        vectors.coverage({})


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_size_and_sha256_are_those_of_the_file_on_disk(tmp_path: Path, compress: bool) -> None:
    data = binary_rows(FILE_WORDS, VALUES)
    path = write(tmp_path, "v.bin.gz" if compress else "v.bin", gzip.compress(data) if compress else data)
    vectors = read_vectors(path, ["cat"])
    assert vectors.size == path.stat().st_size
    assert vectors.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_format_can_be_named_where_detection_reads_binary_as_text(tmp_path: Path) -> None:
    """d = 1: a float32 whose bytes spell '1.25' makes the first record a valid text row; naming the format reads
    it as binary (and auto fails on the next, unprintable record rather than reading garbage)."""
    printable = np.frombuffer(b"1.25", dtype="<f4")
    values = np.array([printable[0], 0.5], dtype=np.float32)[:, None]  # (2, 1)
    path = write(tmp_path, "ambiguous.bin", binary_rows(["w", "x"], values))
    with pytest.raises(ValueError, match=r"ambiguous\.bin"):
        read_vectors(path, ["w", "x"])
    vectors = read_vectors(path, ["w", "x"], format="word2vec-binary")
    np.testing.assert_array_equal(vectors.matrix, values)


def glove_with(row: str) -> bytes:
    """The test file with its second row replaced."""
    lines = text_rows(FILE_WORDS, VALUES).decode().splitlines()
    lines[1] = row
    return ("\n".join(lines) + "\n").encode()


BINARY = binary_rows(FILE_WORDS, VALUES)
BAD: list[tuple[str, bytes, dict[str, object], str]] = [
    (
        "too-few-values",
        glove_with("cat 1 2 3 4"),
        {},
        r"Expected 5 values \(the first row's\) on line 2 of .*Received: 4 after 'cat'",
    ),
    (
        "too-many-values",
        glove_with("zebra 1 2 3 4 5 6"),
        {},
        r"Expected 5 values .* on line 2 .*Received: 6",
    ),  # an unkept row too
    ("no-values", glove_with("cat"), {}, r"Expected 5 values .* on line 2 .*Received: 0"),
    ("leading-space", glove_with(" 1 2 3 4 5"), {}, r"Expected a word first on line 2"),
    ("not-a-float", glove_with("cat 1 2 x3 4 5"), {}, r"Expected float values on line 2 of .*Received: 'x3'"),
    ("nan", glove_with("cat 1 2 nan 4 5"), {}, r"Expected finite float32 values on line 2 .*Received: 'nan'"),
    ("inf", glove_with("cat 1 -inf 3 4 5"), {}, r"Expected finite float32 values on line 2 .*Received: '-inf'"),
    (
        "float32-overflow",
        glove_with("cat 1 2 3 4 1e39"),
        {},
        r"Expected finite float32 values on line 2 .*Received: '1e39'",
    ),
    (
        "latin-1",
        text_rows(FILE_WORDS, VALUES).replace("café".encode(), "café".encode("latin-1")),
        {},
        r"Expected UTF-8 text in .*Received: bytes b'\\xe9' that are not UTF-8 on line 7",
    ),
    (
        "duplicate",
        glove_with("the 1 2 3 4 5"),
        {},
        r"Expected each word once in .*Received: 'the' at line 1 and at line 2",
    ),
    ("empty", b"", {}, r"Expected word vectors in .*Received: an empty file"),
    ("blank", b"\n \n", {}, r"Expected word vectors in .*Received: an empty file"),
    (
        "none-found",
        text_rows(FILE_WORDS, VALUES),
        {"words": ["zebra", "dog"]},
        r"Expected at least one of the 2 words in .*Received: none of its 7 rows",
    ),
    (
        "dimension-asked",
        text_rows(FILE_WORDS, VALUES),
        {"dimension": 7},
        r"Expected dimension=7 in line 1 of .*Received: 5",
    ),
    ("dimension-asked-header", BINARY, {"dimension": 7}, r"Expected dimension=7 in the header of .*Received: 5"),
    (
        "header-dimension",
        text_rows(FILE_WORDS, VALUES, header=True).replace(b"7 5\n", b"7 4\n", 1),
        {},
        r"Expected 4 values \(the header's dimension\) on line 2 of .*Received: 5",
    ),
    (
        "header-count",
        text_rows(FILE_WORDS, VALUES, header=True).replace(b"7 5\n", b"8 5\n", 1),
        {},
        r"Expected 8 rows \(the header's count\) in .*Received: 7",
    ),
    (
        "header-dimension-huge",
        b"3 1000000000\nthe " + b"\0" * 40,
        {},
        rf"Expected a dimension in 1..{MAX_DIMENSION} in the header of .*Received: 1000000000",
    ),
    ("header-dimension-zero", b"3 0\nthe \n", {}, r"Expected a dimension in 1..10000 in the header"),
    ("header-only", b"3 5\n", {}, r"Expected 3 rows \(the header's count\) in .*Received: 0"),
    (
        "header-only-binary",
        b"3 5",
        {"format": "word2vec-binary"},
        r"Expected rows after the header in .*Received: the header only",
    ),
    ("glove-no-values", b"the\ncat 1 2\n", {}, r"Expected a dimension in 1..10000 in line 1 of .*Received: 0"),
    (
        "line-too-long",
        b"the" + b" 1" * 2_200_000,
        {},
        r"Expected lines of at most 4194304 characters in .*Received: line 1 is longer",
    ),
    (
        "no-header",
        text_rows(FILE_WORDS, VALUES),
        {"format": "word2vec-binary"},
        r"Expected a header 'count dimension' on line 1 of .*Received: 'the ",
    ),
    (
        "binary-truncated",
        BINARY[:-7],
        {},
        r"Expected 20 bytes of float32 after 'café' at byte \d+ of .*Received: 14 \(the file is truncated\)",
    ),
    (
        "binary-fewer-rows",
        binary_rows(FILE_WORDS, VALUES, rows=8),
        {},
        r"Expected 8 rows \(the header's count\) in .*Received: 7, the data ends at byte \d+",
    ),
    (
        "binary-more-rows",
        binary_rows(FILE_WORDS, VALUES, rows=6),
        {},
        r"Expected 6 rows \(the header's count\) in .*Received: more data at byte \d+",
    ),
    (
        "binary-word-cut",
        binary_rows(FILE_WORDS, VALUES, rows=8) + b"zebra",
        {},
        r"Expected a word and a space at byte \d+ of .*Received: the data ends after 5 bytes",
    ),
    ("binary-no-space", b"3 5\n" + b"\xff" + b"a" * 70_000, {}, r"Expected a word of at most 65536 bytes at byte 4 of"),
    (
        "binary-nan",
        binary_rows(["cat"], np.array([[1, 2, np.nan, 4, 5]], np.float32)),
        {},
        r"Expected finite float32 values at byte \d+ of .*Received: nan",
    ),
    (
        "binary-not-utf-8",
        binary_rows(FILE_WORDS, VALUES).replace("café".encode(), "café".encode("latin-1")),
        {},
        r"Expected a UTF-8 word at byte \d+ of .*Received: b'caf\\xe9'",
    ),
    (
        "binary-duplicate",
        binary_rows(["cat", "sat", "cat"], VALUES[:3]),
        {},
        r"Expected each word once in .*Received: 'cat' at byte 4 and at byte 54$",
    ),
    ("gzip-truncated", gzip.compress(BINARY)[:-12], {}, r"Expected a complete gzip file .*Received: "),
    ("gzip-empty", gzip.compress(b""), {}, r"Expected word vectors in .*Received: an empty file"),
]


@pytest.mark.parametrize(("data", "options", "match"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_each_bad_input_raises_one_line_naming_the_file(
    tmp_path: Path, data: bytes, options: dict[str, object], match: str
) -> None:
    path = write(tmp_path, "bad-vectors.txt", data)
    words = options.pop("words", ASKED)
    with pytest.raises(ValueError, match=match) as caught:
        read_vectors(path, words, **options)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (
            {"format": "vec"},
            r"Expected format in \('auto', 'glove', 'word2vec-text', 'word2vec-binary', 'spacy'\)\. "
            r"Received: format='vec'",
        ),
        ({"dimension": 0}, r"Expected dimension in 1\.\.10000 or None\. Received: dimension=0"),
        ({"words": []}, r"Expected at least one word to look up"),
        ({"words": ["cat", "the", "cat"]}, r"Expected distinct words\. Received: 'cat' more than once"),
    ],
)
def test_bad_arguments_raise_before_the_file_is_read(tmp_path: Path, options: dict[str, object], match: str) -> None:
    words = options.pop("words", ASKED)
    with pytest.raises(ValueError, match=match):
        read_vectors(tmp_path / "absent.txt", words, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data",
    [
        b"1000000000000 1000000000\nthe " + b"\0" * 40,  # a dimension of 10^9
        binary_rows(FILE_WORDS, VALUES, rows=10**12),  # 10^12 rows claimed, 7 there
        text_rows(FILE_WORDS, VALUES, header=True).replace(b"7 5\n", b"1000000000000 5\n", 1),
    ],
    ids=["dimension", "binary-rows", "text-rows"],
)
def test_a_header_claiming_a_huge_size_raises_without_allocating_it(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, "huge.bin", data)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=r"huge\.bin"):
            read_vectors(path, ASKED)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MiB"


def test_mutated_files_read_or_raise_value_error(tmp_path: Path) -> None:
    """Random damage (bytes flipped, inserted, deleted, cut): a FoundVectors of finite values or a ValueError."""
    rng = random.Random(0)
    originals = [text_rows(FILE_WORDS, VALUES, header=True), text_rows(FILE_WORDS, VALUES), BINARY]
    read, refused = 0, []
    for trial in range(300):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(data))
            action = rng.choice(["flip", "insert", "delete", "cut"])
            if action == "flip":
                data[at] = rng.randrange(256)
            elif action == "insert":
                data[at:at] = bytes([rng.choice(b" \n0.-e\x00\xff")])
            elif action == "delete":
                del data[at]
            else:
                del data[at:]
        if rng.random() < 0.2:
            data = bytearray(gzip.compress(bytes(data)))
        path = write(tmp_path, f"mutated-{trial}", bytes(data))
        try:
            vectors = read_vectors(path, FILE_WORDS)
        except ValueError as error:
            refused.append(str(error))
            continue
        assert isinstance(vectors, FoundVectors)
        assert np.isfinite(vectors.matrix).all()
        read += 1
    assert [message for message in refused if "\n" in message or "mutated-" not in message] == []
    assert read > 10 and len(refused) > 100, (read, len(refused))  # both ways exercised


def write_large_glove(path: Path, rows: int, dimension: int) -> np.ndarray:
    """A GloVe file of `rows` distinct words, each row one of 1000 value rows (formatted once); the value rows."""
    pool = np.random.default_rng(1).standard_normal((1000, dimension)).astype(np.float32)  # (1000, D)
    tails = [" " + " ".join(f"{v:.4f}" for v in row) + "\n" for row in pool]
    with path.open("w", encoding="utf-8") as file:
        for start in range(0, rows, 10_000):
            file.write("".join(f"w{i}{tails[i % 1000]}" for i in range(start, min(rows, start + 10_000))))
    # what each row's text means in float32 (the %.4f decimals, rounded once)
    return np.array([tail.split() for tail in tails], dtype=np.float64).astype(np.float32)


def write_large_binary(path: Path, rows: int, dimension: int) -> np.ndarray:
    """A word2vec binary file of `rows` words w0000000, w0000001, ...; its values."""
    values = np.random.default_rng(2).standard_normal((rows, dimension)).astype(np.float32)  # (N, D)
    record = np.dtype([("word", "S8"), ("space", "S1"), ("vector", "<f4", (dimension,)), ("newline", "S1")])
    records = np.zeros(rows, dtype=record)
    records["word"] = [b"w%07d" % i for i in range(rows)]
    records["space"], records["vector"], records["newline"] = b" ", values, b"\n"
    path.write_bytes(f"{rows} {dimension}\n".encode() + records.tobytes())
    return values


@pytest.mark.parametrize("kind", ["text", "binary"])
def test_memory_follows_the_vocabulary_not_the_file(tmp_path: Path, kind: str) -> None:
    """200,000 rows x 50 (73 MiB of text, 40 MiB binary) read for 101 words stay under 10 MiB."""
    path = tmp_path / f"large.{kind}"
    picked = list(range(0, 200_000, 2_000))
    if kind == "text":
        pool = write_large_glove(path, rows=200_000, dimension=50)
        words, meant = [f"w{i}" for i in picked], pool[[i % 1000 for i in picked]]
    else:
        values = write_large_binary(path, rows=200_000, dimension=50)
        words, meant = [f"w{i:07d}" for i in picked], values[picked]
    tracemalloc.start()
    try:
        vectors = read_vectors(path, [*words, "absent"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, f"{peak / 2**20:.1f} MiB for a {path.stat().st_size / 2**20:.0f} MiB file"
    assert path.stat().st_size > 35 * 2**20
    assert vectors.rows_read == 200_000
    assert vectors.found.sum() == 100 and not vectors.found[-1]
    np.testing.assert_array_equal(vectors.matrix[:100], meant)


# ----------------------------------------------------------------------------------------- spaCy folders
def spacy_folder(folder: Path, words: list[str], values: np.ndarray) -> Path:
    """A vectors folder as spaCy writes it (its own Vectors.to_disk), with the strings a pipeline's vocab keeps."""
    from spacy.strings import get_string_id
    from spacy.vectors import Vectors

    table = Vectors(data=values.copy(), keys=[get_string_id(word) for word in words])
    folder.mkdir(parents=True)
    table.to_disk(folder)
    (folder / "strings.json").write_text(json.dumps(words), encoding="utf-8")
    return folder


@pytest.mark.parametrize("layout", ["vectors", "pipeline"])
def test_a_spacy_folder_reads_the_values_written(tmp_path: Path, layout: str) -> None:
    root = tmp_path / "model"
    spacy_folder(root / "vocab" if layout == "pipeline" else root, FILE_WORDS, VALUES)
    found = read_vectors(root, ASKED)
    assert found.format == "spacy"
    np.testing.assert_array_equal(found.matrix, expected(ASKED))
    assert found.found.tolist() == [word in FILE_WORDS for word in ASKED]
    assert (found.rows_read, found.dimension, found.source) == (len(FILE_WORDS), 5, "model")
    again = read_vectors(root, ASKED, format="spacy")
    assert again.sha256 == found.sha256 and again.size == found.size > 0


def test_a_spacy_folder_lower_cases_the_strings_it_keeps(tmp_path: Path) -> None:
    folder = spacy_folder(tmp_path / "vectors", ["Cat", "the", "The"], VALUES[:3])
    found = read_vectors(folder, ["cat", "the"], lower=True)
    np.testing.assert_array_equal(found.matrix, VALUES[:2])  # "the" as it is; "cat" from "Cat"
    assert not read_vectors(folder, ["cat", "the"]).found[0]  # without lower, "cat" is missing


def test_a_spacy_folder_checks_the_dimension(tmp_path: Path) -> None:
    folder = spacy_folder(tmp_path / "vectors", FILE_WORDS, VALUES)
    with pytest.raises(ValueError, match=r"^Expected dimension=300 in the spaCy table of .*vectors\. Received: 5$"):
        read_vectors(folder, ["cat"], dimension=300)


def test_a_folder_that_holds_no_table_raises_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"^Expected a vectors file, or a spaCy .*Received: .*empty, a folder without"):
        read_vectors(tmp_path / "empty", ["cat"])


def test_a_damaged_spacy_table_raises_one_line(tmp_path: Path) -> None:
    folder = spacy_folder(tmp_path / "vectors", FILE_WORDS, VALUES)
    (folder / "vectors").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match=r"^Expected a spaCy vectors table in .*vectors\. Received: \w+$"):
        read_vectors(folder, ["cat"])


def test_without_spacy_a_spacy_folder_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "vectors"
    folder.mkdir()
    (folder / "vectors").write_bytes(b"")
    (folder / "vectors.cfg").write_text("{}")
    monkeypatch.setitem(sys.modules, "spacy.vectors", None)  # import spacy.vectors now raises ImportError
    with pytest.raises(ValueError, match=r"^Expected spaCy installed .*lstmlab\[spacy\].*Received: no module spacy$"):
        read_vectors(folder, ["cat"])
