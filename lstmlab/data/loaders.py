"""Labelled texts from files: CSV / TSV / JSON Lines tables, a folder of class sub-folders, one file per class, or
`sentence<TAB>label` lines, and the sets bundled with the package (`uci:yelp`). Every error names the file, the row
and what was expected."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from .bundled import bundled_path, is_bundled

__all__ = [
    "SKIPPED_FOLDERS",
    "TEXT_FORMATS",
    "Example",
    "guess_text_format",
    "json_record",
    "lines",
    "load_texts",
    "read_text",
    "read_texts",
]

TEXT_FORMATS = ("csv", "tsv", "jsonl", "folder", "class-files", "tab-lines")
_SKIPPED_FILES = ("readme", "license", "licence", "copying")  # documentation beside class files
SKIPPED_FOLDERS = ("unsup",)  # the large IMDB review set's unlabelled reviews


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    where: str  # "file:line" or the document's path, for error messages


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The file decoded strictly; undecodable bytes raise naming the file and line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"Expected a readable file. Received: {path} ({error.strerror})") from None
    try:
        return data.decode(encoding)
    except LookupError:
        raise ValueError(f"Expected a known text encoding. Received: --encoding {encoding}") from None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        bad = data[error.start : error.end + 3]
        raise ValueError(
            f"Expected {encoding} text in {path}:{line}. Received: undecodable bytes {bad!r} (give --encoding, "
            "e.g. latin-1)"
        ) from None


def lines(text: str) -> list[str]:
    """Lines split on \\n only (U+0085 and friends stay inside a line), without \\r."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def read_texts(path: Path) -> list[str]:
    """Unlabelled texts to predict, one a line (blank lines skipped)."""
    if not path.is_file():
        raise ValueError(f"Expected a file of texts, one a line. Received: {path} does not exist")
    texts = [line for line in lines(read_text(path)) if line.strip()]
    if not texts:
        raise ValueError(f"Expected at least one text in {path}. Received: an empty file")
    return texts


def guess_text_format(path: Path) -> str:
    if path.is_dir():
        entries = [p for p in path.iterdir() if not p.name.startswith(".")]
        if any(p.is_dir() and p.name not in SKIPPED_FOLDERS for p in entries):
            return "folder"
        return "class-files"
    suffix = path.suffix.lower()
    guessed = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".txt": "tab-lines"}.get(suffix)
    if guessed is None:
        raise ValueError(
            f"Expected a .csv, .tsv, .jsonl or .txt file or a folder (or --data-format in {list(TEXT_FORMATS)}). "
            f"Received: {path}"
        )
    return guessed


def _check(examples: list[Example], path: Path) -> list[Example]:
    for example in examples:
        if not example.text.strip():
            raise ValueError(f"Expected a non-empty text at {example.where}. Received: {example.text!r}")
        if not example.label.strip():
            raise ValueError(f"Expected a label at {example.where}. Received: an empty label")
    if not examples:
        raise ValueError(f"Expected labelled examples in {path}. Received: none")
    return examples


def _table(path: Path, text: str, delimiter: str, text_column: str, label_column: str) -> list[Example]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = reader.fieldnames or []
    for column in (text_column, label_column):
        if column not in columns:
            raise ValueError(
                f"Expected a column {column!r} in {path} (set --text-column / --label-column). Received: columns "
                f"{columns}"
            )
    out = []
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if None in row or row.get(text_column) is None or row.get(label_column) is None:
            raise ValueError(f"Expected {len(columns)} fields at {where}. Received: {list(row.values())}")
        out.append(Example(row[text_column], row[label_column].strip(), where))
    return out


def json_record(line: str, where: str, text_column: str, label_column: str) -> Example:
    """One JSON Lines record: an object with a string text and a scalar label (`where` names it in errors)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"Expected one JSON object a line at {where}. Received: {error.msg}") from None
    if not isinstance(row, dict) or text_column not in row or label_column not in row:
        keys = sorted(row) if isinstance(row, dict) else type(row).__name__
        raise ValueError(f"Expected an object with {text_column!r} and {label_column!r} at {where}. Received: {keys}")
    value, label = row[text_column], row[label_column]
    if not isinstance(value, str) or isinstance(label, (dict, list)) or label is None:
        raise ValueError(f"Expected a string text and a scalar label at {where}. Received: {value!r}, {label!r}")
    return Example(value, str(label).strip(), where)


def _jsonl(path: Path, text: str, text_column: str, label_column: str) -> list[Example]:
    return [
        json_record(line, f"{path}:{number}", text_column, label_column)
        for number, line in enumerate(lines(text), start=1)
        if line.strip()
    ]


def _tab_lines(path: Path, text: str) -> list[Example]:
    out = []
    for number, line in enumerate(lines(text), start=1):
        if not line.strip():
            continue
        sentence, tab, label = line.rpartition("\t")
        if not tab:
            raise ValueError(f"Expected 'sentence<TAB>label' at {path}:{number}. Received: {line[:60]!r}")
        out.append(Example(sentence, label.strip(), f"{path}:{number}"))
    return out


def _folder(path: Path, encoding: str) -> list[Example]:
    out = []
    classes = sorted(p for p in path.iterdir() if p.is_dir() and p.name not in SKIPPED_FOLDERS)
    for folder in classes:
        files = sorted(folder.glob("*.txt"))
        if not files:
            raise ValueError(f"Expected .txt files in the class folder {folder}. Received: none")
        out += [Example(read_text(f, encoding), folder.name, str(f)) for f in files]
    return out


def _class_files(path: Path, encoding: str) -> list[Example]:
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.lower().startswith(_SKIPPED_FILES)
    )
    if len(files) < 2:
        raise ValueError(f"Expected one file per class (at least two) in {path}. Received: {[f.name for f in files]}")
    # rt-polarity.pos / rt-polarity.neg: one stem, the suffix names the class; otherwise the stem does
    by_suffix = len({f.stem for f in files}) == 1
    out = []
    for f in files:
        label = f.suffix.lstrip(".") if by_suffix else f.stem
        for number, line in enumerate(lines(read_text(f, encoding)), start=1):
            if line.strip():
                out.append(Example(line, label, f"{f}:{number}"))
    return out


def load_texts(
    path: Path,
    *,
    data_format: str | None = None,
    text_column: str = "text",
    label_column: str = "label",
    encoding: str = "utf-8",
) -> list[Example]:
    """Labelled texts from `path` in `data_format` (guessed from the path when None); `path` may name a bundled set
    (`uci:amazon`, `uci:imdb`, `uci:yelp`: see `lstmlab.data.bundled`)."""
    if is_bundled(str(path)):
        path = bundled_path(str(path))
    if not path.exists():
        raise ValueError(f"Expected a data file or folder. Received: {path} does not exist")
    chosen = data_format or guess_text_format(path)
    if chosen not in TEXT_FORMATS:
        raise ValueError(f"Expected --data-format in {list(TEXT_FORMATS)}. Received: {chosen!r}")
    if (chosen in ("folder", "class-files")) != path.is_dir():
        raise ValueError(f"Expected {'a folder' if path.is_file() else 'a file'} for format {chosen}. Received: {path}")
    if chosen == "folder":
        return _check(_folder(path, encoding), path)
    if chosen == "class-files":
        return _check(_class_files(path, encoding), path)
    text = read_text(path, encoding)
    if chosen in ("csv", "tsv"):
        examples = _table(path, text, "," if chosen == "csv" else "\t", text_column, label_column)
    elif chosen == "jsonl":
        examples = _jsonl(path, text, text_column, label_column)
    else:
        examples = _tab_lines(path, text)
    return _check(examples, path)
