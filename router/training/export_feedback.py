"""Export the deployment's own labels (comparisons and thumbs) as preference rows for training.

    .venv/bin/python -m router.training.export_feedback --out feedback.jsonl [--database-url URL]

Each row is `{"id", "prompt", "strong_score", "weak_score", "source", "created_at"}`; scores are in
[0, 1], 1 = that model's answer was good (the cloud model is the strong one, the local the weak).
The mapping rests on RouteLLM's premise that the strong model answers at least as well as the weak
one, so a label on one side can settle the other:

- comparison: cloud better → 1/0; local better → 0/1; "both fine" → 1/1 (no strong win: local suffices);
- thumbs up on a local answer → 1/1 (the weak answer was good, so the strong one would be too);
- thumbs down on a cloud answer → 0/0 (the weak one would not have done better);
- thumbs down on a local answer → 0.5/0 and thumbs up on a cloud answer → 1/0.5: the side nobody
  saw gets 0.5, "unknown".

The database is read through `persistence`, imported only here (a command the app never runs), so
the router itself stays free of the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settings import get_settings

#: (strong_score, weak_score) of a comparison's verdict.
COMPARISON_SCORES = {"cloud": (1.0, 0.0), "local": (0.0, 1.0), "both": (1.0, 1.0)}
#: (strong_score, weak_score) of a thumb, by (route of the rated answer, thumbs up).
THUMB_SCORES = {("local", True): (1.0, 1.0), ("local", False): (0.5, 0.0),
                ("cloud", True): (1.0, 0.5), ("cloud", False): (0.0, 0.0)}


@dataclass(frozen=True)
class Exported:
    comparisons: int
    thumbs: int

    @property
    def rows(self) -> int:
        return self.comparisons + self.thumbs


def preference_rows(comparisons: Iterable[Any], thumbs: Iterable[Any]) -> list[dict]:
    """Rows for `persistence.Comparison`s and `persistence.Thumb`s, sorted by id (deterministic)."""
    rows = [_row(f"feedback-comparison-{c.id}", c.prompt, COMPARISON_SCORES[c.preference], "feedback-comparison",
                 c.created_at) for c in comparisons]
    rows += [_row(f"feedback-thumb-{t.step_id}", t.prompt, THUMB_SCORES[(t.route, bool(t.value))], "feedback-thumb",
                  t.created_at) for t in thumbs]
    return sorted(rows, key=lambda row: row["id"])


def _row(row_id: str, prompt: str, scores: tuple[float, float], source: str, created_at) -> dict:
    strong, weak = scores
    return {"id": row_id, "prompt": prompt, "strong_score": strong, "weak_score": weak, "source": source,
            "created_at": created_at.isoformat()}


async def read_labels(database_url: str) -> tuple[list, list]:
    """The stored comparisons and thumbs of the database at `database_url`."""
    from persistence import create_engine, list_comparisons, list_thumbs

    engine = create_engine(database_url)
    try:
        return await list_comparisons(engine), await list_thumbs(engine)
    finally:
        await engine.dispose()


def write_rows(rows: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


async def export(out: Path, database_url: str | None = None) -> Exported:
    """Write the deployment's labels to `out` (the configured database unless `database_url` is given)."""
    if database_url is None:
        from persistence import database_url as configured_url

        database_url = configured_url()
    comparisons, thumbs = await read_labels(database_url)
    write_rows(preference_rows(comparisons, thumbs), out)
    return Exported(len(comparisons), len(thumbs))


def feedback_data_files() -> list[Path]:
    """`train_complexity --from-feedback`: the deployment's labels exported into its data folder (the
    prompts stay with the rest of its data), as a list of one file, or none when nothing is stored yet."""
    out = get_settings().data_dir / "router" / "feedback.jsonl"
    done = asyncio.run(export(out))
    print(f"exported {done.rows} preference rows ({done.comparisons} comparisons, {done.thumbs} thumbs) to {out}")
    return [out] if done.rows else []


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="JSONL file to write")
    parser.add_argument("--database-url", help="default: DATABASE_URL, else DATA_DIR/hybrid_chat.db")
    args = parser.parse_args(argv)
    from persistence import PersistenceError

    try:
        done = asyncio.run(export(args.out, args.database_url))
    except PersistenceError as exc:
        parser.exit(1, f"error: {exc}\n")
    print(f"wrote {done.rows} preference rows ({done.comparisons} comparisons, {done.thumbs} thumbs) to {args.out}")


if __name__ == "__main__":
    main()
