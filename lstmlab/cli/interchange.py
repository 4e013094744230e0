"""Runs in and out of lstmlab: `import-keras`, `export` (Keras or ONNX) and `serve` (HTTP)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..serve import HOST, PORT, ServeSettings
from .options import command, positive_int

__all__ = ["add_interchange"]


def cmd_import_keras(args: argparse.Namespace) -> None:
    from ..interchange import import_keras  # h5py and the Keras mapping load for this command only

    out = None if args.out is None else Path(args.out)
    imported = import_keras(Path(args.model), out, overwrite=args.overwrite)
    answers = "a class per step" if imported.targets == "per-step" else "a class per sequence"
    reads = "token ids" if imported.inputs == "ids" else "values"
    print(
        f"imported {args.model} ({imported.name}: reads {reads}, answers {answers} of "
        f"{' '.join(imported.labels)}, {imported.parameters:,} parameters); saved to {imported.directory}"
    )
    for note in imported.notes:
        print(f"note: {note}")
    run = imported.directory
    print(f"use it: lstmlab predict {run} --input FILE; lstmlab evaluate {run} --data FILE")


def cmd_export(args: argparse.Namespace) -> None:
    out = None if args.out is None else Path(args.out)
    if args.format == "onnx":
        from ..interchange import export_onnx_run  # onnx loads for this format only

        written = export_onnx_run(Path(args.run), out, overwrite=args.overwrite)
        print(f"exported {args.run} to {written.path} (ONNX, inputs {', '.join(written.inputs)}; right-padded)")
        beside = [str(written.settings), *([str(written.reader)] if written.reader else [])]
        print(f"beside it: {' and '.join(beside)} (what it reads and answers: the docs, 'Taking a model out')")
        return
    from ..interchange import export_keras

    exported = export_keras(Path(args.run), out, overwrite=args.overwrite)
    print(f"exported {args.run} to {exported.path} (Keras 3, a final {exported.activation})")
    for note in exported.notes:
        print(f"note: {note}")


def cmd_serve(args: argparse.Namespace) -> None:
    from ..serve import serve  # fastapi and uvicorn load for this command only

    settings = ServeSettings(
        device=args.device,
        threads=args.threads,
        batching=not args.no_batching,
        max_wait_ms=args.batch_wait_ms,
        max_rows=args.max_batch,
        max_queue=args.max_queue,
        max_body=args.max_body,
    )

    def ready(host: str, port: int) -> None:
        batching = "off" if args.no_batching else f"up to {args.max_batch} inputs within {args.batch_wait_ms} ms"
        print(f"serving {args.run} on http://{host}:{port} (batching {batching}; OpenAPI docs at /docs); Ctrl-C stops")
        sys.stdout.flush()

    serve(Path(args.run), args.host, args.port, settings, ready=ready)


def add_interchange(sub: Any) -> None:
    imports = command(
        sub,
        "import-keras",
        "make a run directory from a saved Keras classifier (.keras or .h5), for predict and evaluate",
        "The file is read with h5py and its JSON config; nothing in it is run. A layer or option lstmlab cannot "
        "import is named in one line.",
    )
    imports.add_argument("model", metavar="MODEL", help="a Keras 3 .keras archive or a Keras 2 .h5 file")
    imports.add_argument("--out", help="run directory to write (default: a new dated directory under runs/)")
    imports.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    imports.set_defaults(handler=cmd_import_keras)
    export = command(
        sub, "export", "write a run's model in another format: a .keras file Keras 3 loads, or an exact ONNX graph"
    )
    export.add_argument("run", help="a run directory written by `lstmlab train` or `lstmlab import-keras`")
    export.add_argument("--format", required=True, choices=["keras", "onnx"], help="the format to write")
    export.add_argument("--out", help="the file to write (default: RUN/model.keras or RUN/model.onnx)")
    export.add_argument("--overwrite", action="store_true", help="replace the file at --out")
    export.set_defaults(handler=cmd_export)
    settings = ServeSettings()
    served = command(sub, "serve", "answer predictions over HTTP (JSON): POST /predict, POST /stream, GET /docs")
    served.add_argument("run", help="a run directory written by `lstmlab train` or `lstmlab import-keras`")
    served.add_argument("--host", default=HOST, help="the address to listen on")
    served.add_argument("--port", type=int, default=PORT, help="the port (0: any free one, printed)")
    option = served.add_argument
    option("--device", default=settings.device, help="where the model runs: cpu, cuda, cuda:1, ...")
    threads = "the model's CPU threads (1: the other cores serve requests)"
    option("--threads", type=positive_int, default=settings.threads, help=threads)
    option("--no-batching", action="store_true", help="answer each request alone")
    waits = "how long a batch waits for more requests"
    option("--batch-wait-ms", type=float, default=settings.max_wait_ms, help=waits)
    option("--max-batch", type=positive_int, default=settings.max_rows, help="inputs in one batch at most")
    option("--max-queue", type=positive_int, default=settings.max_queue, help="waiting requests at most (then 503)")
    option("--max-body", type=positive_int, default=settings.max_body, help="bytes in a request body at most")
    served.set_defaults(handler=cmd_serve)
