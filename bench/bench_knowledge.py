"""Knowledge benchmark: ingestion throughput against raw embedding, query latency, recall@5.

    .venv/bin/python bench/bench_knowledge.py           # real PDFs + 10,000-chunk project (~1-2 min)
    .venv/bin/python bench/bench_knowledge.py --full    # adds a 100,000-chunk project
    .venv/bin/python bench/bench_knowledge.py --backend torch

Ingestion runs the whole pipeline (read, chunk, embed, store) on the real Debian manuals in
tests/knowledge/samples; the baseline is the raw embedding of the very same chunks in the same
run, so `pipeline / raw` shows what reading, chunking and Chroma cost on top of the model.
Query latency is measured on projects filled with synthetic unit vectors (the index does not
care what the vectors mean): Chroma alone, and end to end (question embedding + Chroma).
Recall@5: share of the questions of samples/questions.jsonl whose answer page is among the
five passages retrieved (no score threshold), plus how the threshold separates off-topic ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge import KnowledgeBase  # noqa: E402
from knowledge._chunking import chunk_pages  # noqa: E402
from embedding import load_embedder, shared_embedder  # noqa: E402
from knowledge._pdf import read_pdf  # noqa: E402
from knowledge._store import StoredChunk  # noqa: E402
from settings import Settings  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "knowledge" / "samples"
DOCUMENTS = ["reportlab-userguide.pdf", "CAD.pdf", "asy-latex.pdf"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def bench_ingestion(kb: KnowledgeBase) -> None:
    kb.embedder.embed(["warm-up"])  # model loading is not ingestion
    pages = chunks = 0
    started = time.perf_counter()
    for name in DOCUMENTS:
        summary = await kb.ingest_pdf("real", "bench", name, (SAMPLES / name).read_bytes())
        pages, chunks = pages + summary.pages, chunks + summary.chunks
    pipeline = time.perf_counter() - started

    texts = []
    for name in DOCUMENTS:
        pdf = read_pdf((SAMPLES / name).read_bytes(), max_mb=50, max_pages=5000)
        texts += [chunk.text for chunk in chunk_pages((page.number, page.text) for page in pdf.pages)]
    # The raw baseline and the other backend run interleaved, block by block, so a change in the
    # load of this shared machine hits both alike.
    other = "torch" if kb.settings.embedding_backend != "torch" else "onnx-int8"
    reference = load_embedder(Settings(), other)  # default DATA_DIR: the exported ONNX model is reused
    reference.embed(["warm-up"])
    raw = other_seconds = 0.0
    for start in range(0, len(texts), 64):
        block = texts[start : start + 64]
        started = time.perf_counter()
        kb.embedder.embed(block)
        raw += time.perf_counter() - started
        started = time.perf_counter()
        reference.embed(block)
        other_seconds += time.perf_counter() - started

    print(f"ingestion, {len(DOCUMENTS)} real PDFs ({pages} pages, {chunks} chunks):")
    print(f"  pipeline end to end : {pages / pipeline:7.1f} pages/s  {chunks / pipeline:6.1f} chunks/s  ({pipeline:.1f} s)")
    print(f"  raw embedding (base): {'':>14}  {len(texts) / raw:6.1f} chunks/s  ({raw:.1f} s)")
    print(f"  pipeline / raw      : {raw / pipeline:.2f}  (1.00 = the pipeline adds nothing to the model's time)")
    print(f"  raw embedding, {other:<9}: {len(texts) / other_seconds:6.1f} chunks/s  "
          f"({kb.settings.embedding_backend} is {other_seconds / raw:.2f}x its speed, measured interleaved)")


async def bench_recall(kb: KnowledgeBase) -> None:
    questions = [json.loads(line) for line in (SAMPLES / "questions.jsonl").read_text().splitlines() if line]
    answerable = [q for q in questions if q["document"]]
    found = 0
    best_relevant: list[float] = []
    best_offtopic: list[float] = []
    for q in questions:
        passages = await kb.retrieve("real", q["question"], k=5, min_score=-1.0)
        if not q["document"]:
            best_offtopic.append(passages[0].score)
            continue
        best_relevant.append(passages[0].score)
        if any(p.document == q["document"] and p.page in q["pages"] for p in passages):
            found += 1
        else:
            print(f"  miss: {q['question']}  (expected p. {q['pages']}, got {[p.page for p in passages]})")
    threshold = kb.settings.retrieval_min_score
    print(f"recall@5 of the answer page: {found}/{len(answerable)} = {found / len(answerable):.2f}")
    print(
        f"  best score, answerable: min {min(best_relevant):.2f} median {statistics.median(best_relevant):.2f};"
        f" off-topic: max {max(best_offtopic):.2f}  (RETRIEVAL_MIN_SCORE={threshold}:"
        f" {sum(s < threshold for s in best_offtopic)}/{len(best_offtopic)} off-topic answered 'nothing relevant',"
        f" {sum(s < threshold for s in best_relevant)}/{len(best_relevant)} answerable wrongly so)"
    )


async def bench_queries(kb: KnowledgeBase, size: int, dimension: int, rounds: int = 200) -> None:
    project = f"synthetic-{size}"
    store = kb.project(project)
    generator = np.random.default_rng(size)
    started = time.perf_counter()
    for start in range(0, size, 20_000):  # one "document" per 20k chunks keeps memory small
        count = min(20_000, size - start)
        vectors = generator.standard_normal((count, dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        doc_id = f"synthetic-{start}"
        chunks = [
            StoredChunk(f"{doc_id}-{i}", f"synthetic passage {start + i}",
                        {"doc_id": doc_id, "document": "synthetic.pdf", "kind": "pdf", "owner": "bench",
                         "page": 1 + i // 3, "chunk": i})
            for i in range(count)
        ]
        store.add_document(doc_id, chunks, vectors, {"doc_id": doc_id, "document": "synthetic.pdf", "kind": "pdf",
                                                     "owner": "bench", "pages": count // 3, "chunks": count,
                                                     "size_bytes": 0, "added_at": ""})
    fill = time.perf_counter() - started

    questions = generator.standard_normal((rounds, dimension)).astype(np.float32)
    questions /= np.linalg.norm(questions, axis=1, keepdims=True)
    chroma_ms = []
    for vector in questions:
        started = time.perf_counter()
        store.nearest(vector, 5)
        chroma_ms.append((time.perf_counter() - started) * 1000)
    end_to_end_ms = []
    for i in range(rounds // 4):
        started = time.perf_counter()
        await kb.retrieve(project, f"How do I configure feature number {i} of the library?", k=5, min_score=-1.0)
        end_to_end_ms.append((time.perf_counter() - started) * 1000)
    print(f"query latency, {size:,} chunks in the project (filled at {size / fill:,.0f} chunks/s):")
    print(f"  Chroma query only (base): p50 {percentile(chroma_ms, .5):6.1f} ms  p95 {percentile(chroma_ms, .95):6.1f} ms")
    print(f"  retrieve end to end     : p50 {percentile(end_to_end_ms, .5):6.1f} ms  p95 {percentile(end_to_end_ms, .95):6.1f} ms"
          f"  ({percentile(end_to_end_ms, .5) / percentile(chroma_ms, .5):.1f}x the Chroma query: question embedding + manifest check)")
    await kb.delete_project(project)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also measure a 100,000-chunk project")
    parser.add_argument("--backend", choices=["onnx-int8", "torch"], default="onnx-int8", help="EMBEDDING_BACKEND")
    args = parser.parse_args()
    print(f"embedding backend: {args.backend}")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as folder:
        embedder = shared_embedder(Settings(EMBEDDING_BACKEND=args.backend))
        kb = KnowledgeBase(Settings(DATA_DIR=folder, EMBEDDING_BACKEND=args.backend), embedder=embedder)
        try:
            await bench_ingestion(kb)
            await bench_recall(kb)
            for size in [10_000, 100_000] if args.full else [10_000]:
                await bench_queries(kb, size, kb.embedder.dimension)
        finally:
            kb.close()


if __name__ == "__main__":
    asyncio.run(main())
