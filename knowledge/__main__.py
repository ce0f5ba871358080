"""Command line: `python -m knowledge ingest|query|list|remove` (see `--help`).

It opens the same store as the app: a Chroma server when CHROMA_HOST is set, else the embedded
folder, which it refuses to touch while the app (or another command) holds it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path

from knowledge._knowledge_base import KnowledgeBase
from knowledge._errors import KnowledgeError, PdfRejected, StoreLocked
from knowledge._ingest import IngestProgress
from knowledge._pdf import check_size
from settings import get_settings

EXIT_REJECTED = 1
EXIT_UNAVAILABLE = 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged files are reported once, by us
    try:
        kb = KnowledgeBase(get_settings())
    except StoreLocked as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    try:
        return asyncio.run(args.run(kb, args))
    finally:
        kb.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="index PDF files into a project (idempotent)")
    ingest.add_argument("--project", required=True)
    ingest.add_argument("--owner", required=True, help="recorded as the uploader")
    ingest.add_argument("--password", help="for encrypted PDFs")
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE.pdf")
    ingest.set_defaults(run=_ingest)

    query = commands.add_parser("query", help="print the best passages for each question as JSON lines")
    query.add_argument("--project", required=True)
    query.add_argument("--owner", help="accepted for symmetry; membership is checked by the app")
    query.add_argument("-k", type=int, default=None, help="passages per question (default RETRIEVAL_K)")
    query.add_argument("--min-score", type=float, default=None, help="default RETRIEVAL_MIN_SCORE")
    source = query.add_mutually_exclusive_group(required=True)
    source.add_argument("--stdin", action="store_true", help="read one question per line")
    source.add_argument("questions", nargs="*", default=[], metavar="QUESTION")
    query.set_defaults(run=_query)

    listing = commands.add_parser("list", help="list the documents of a project as JSON lines")
    listing.add_argument("--project", required=True)
    listing.set_defaults(run=_list)

    remove = commands.add_parser("remove", help="remove documents (and their passages) by id")
    remove.add_argument("--project", required=True)
    remove.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    remove.set_defaults(run=_remove)
    return parser


async def _ingest(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    failures = 0
    for path in args.files:
        try:
            check_size(path.stat().st_size, kb.settings.max_upload_mb)  # before reading a huge file
            data = path.read_bytes()
        except OSError as error:
            print(f"{path}: cannot read it: {error.strerror or error}", file=sys.stderr)
            failures += 1
            continue
        except PdfRejected as error:
            print(f"{path}: {error}", file=sys.stderr)
            failures += 1
            continue
        bars: dict[str, tqdm] = {}

        def show(event: IngestProgress, bars: dict[str, tqdm] = bars, name: str = path.name) -> None:
            if event.stage == "reading":
                bar = bars.get("pages") or bars.setdefault(
                    "pages", tqdm(total=event.pages_total, desc=f"{name}: pages read", unit="page", leave=False)
                )
                bar.update(event.pages_read - bar.n)
            elif event.stage in ("embedding", "done") and event.chunks_total:
                bar = bars.get("chunks") or bars.setdefault(
                    "chunks", tqdm(total=event.chunks_total, desc=f"{name}: chunks embedded", unit="chunk", leave=False)
                )
                bar.update(event.chunks_embedded - bar.n)

        try:
            summary = await kb.ingest_pdf(
                args.project, args.owner, path.name, data, password=args.password, progress=show
            )
        except KnowledgeError as error:
            print(f"{path}: {error}", file=sys.stderr)
            failures += 1
            continue
        finally:
            for bar in bars.values():
                bar.close()
        print(f"{summary.describe()} (id {summary.doc_id})")
    return EXIT_REJECTED if failures else 0


async def _query(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    questions: Iterable[str] = sys.stdin if args.stdin else args.questions
    for line in questions:
        question = line.strip()
        if not question:
            continue
        passages = await kb.retrieve(args.project, question, k=args.k, min_score=args.min_score)
        if not passages:
            print(f"no relevant passage for: {question}", file=sys.stderr)
        for passage in passages:
            record = {
                "question": question,
                "document": passage.document,
                "page": passage.page,
                "score": passage.score,
                "text": passage.text,
                "doc_id": passage.doc_id,
                "kind": passage.kind,
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


async def _list(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    for document in await kb.list_documents(args.project):
        print(json.dumps(document.__dict__, ensure_ascii=False))
    return 0


async def _remove(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    missing = 0
    for doc_id in args.doc_ids:
        if await kb.remove_document(args.project, doc_id):
            print(f"removed {doc_id}")
        else:
            print(f"{doc_id}: no such document in project {args.project!r}", file=sys.stderr)
            missing += 1
    return EXIT_REJECTED if missing else 0


if __name__ == "__main__":
    sys.exit(main())
