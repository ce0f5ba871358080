"""Measure the privacy scan: recall on labelled personal data, false positives on ordinary prompts.

    .venv/bin/python -m router.training.evaluate_privacy [--indonesian N]

Recall: presidio-research's synthetic sentences (`../shared/data/privacy/`) and Faker id_ID
Indonesian cases. False positives: the router's MMLU/GSM8K prompts, which hold no personal
data, so every flag there is a false one.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field

from router.privacy import KIND_LABELS, scan_text
from router.training.data import default_router_data, shared_data_dir
from router.training.indonesian_cases import generate

#: presidio entity types that are personal data in our sense, and the kind that should find them.
PRESIDIO_KINDS = {
    "PERSON": "person_name", "STREET_ADDRESS": "street_address", "CREDIT_CARD": "payment_card",
    "PHONE_NUMBER": "phone", "EMAIL_ADDRESS": "email", "IBAN_CODE": "iban", "IP_ADDRESS": "ip_address",
    "US_SSN": "us_ssn", "US_DRIVER_LICENSE": "us_driver_license",
}


@dataclass
class Tally:
    found: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)

    def add(self, key: str, hit: bool) -> None:
        self.total[key] += 1
        self.found[key] += hit

    def rate(self, key: str) -> float:
        return self.found[key] / self.total[key] if self.total[key] else float("nan")

    def lines(self) -> list[str]:
        return [f"  {key:<22} {self.found[key]:>5}/{self.total[key]:<5} {self.rate(key):6.1%}" for key in sorted(self.total)]


def presidio_recall() -> tuple[Tally, Tally, int, int]:
    """(sentence recall by group, sentence recall by presidio type, flagged ordinary sentences, ordinary sentences)."""
    sentences, spans = Tally(), Tally()
    ordinary = ordinary_flagged = 0
    path = shared_data_dir() / "privacy" / "presidio_synth_train.jsonl"
    for line in filter(str.strip, path.read_text(encoding="utf-8").split("\n")):
        row = json.loads(line)
        findings = scan_text(row["text"])
        personal = [s for s in row["spans"] if s["type"] in PRESIDIO_KINDS]
        if not personal:
            ordinary += 1
            ordinary_flagged += bool(findings)
            continue
        only_names = all(s["type"] == "PERSON" for s in personal)
        sentences.add("all with personal data", bool(findings))
        sentences.add("name only" if only_names else "beyond a name", bool(findings))
        for kind in sorted({s["type"] for s in personal}):
            spans.add(kind, bool(findings))
    return sentences, spans, ordinary_flagged, ordinary


def indonesian_recall(n: int) -> tuple[Tally, Tally]:
    """(recall per kind: flagged at all, flagged as that kind); kind "" counts false flags."""
    flagged, exact = Tally(), Tally()
    for case in generate(n):
        kinds = {f.kind for f in scan_text(case.text)}
        key = case.kind or "(ordinary: false flag)"
        flagged.add(key, bool(kinds))
        exact.add(key, case.kind in kinds if case.kind else bool(kinds))
    return flagged, exact


def false_positives() -> tuple[Counter, int, int]:
    """(flags per kind, prompts flagged, prompts) on the router's ordinary questions."""
    per_kind: Counter = Counter()
    flagged = total = 0
    for line in filter(str.strip, default_router_data().read_text(encoding="utf-8").split("\n")):
        kinds = {f.kind for f in scan_text(json.loads(line)["prompt"])}
        total += 1
        flagged += bool(kinds)
        per_kind.update(kinds)
    return per_kind, flagged, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--indonesian", type=int, default=400, help="number of generated Indonesian cases")
    args = parser.parse_args(argv)
    if not shared_data_dir().exists():
        parser.error(f"no shared data at {shared_data_dir()} (set SHARED_DATA_DIR)")

    sentences, spans, ordinary_flagged, ordinary = presidio_recall()
    print("presidio synthetic sentences: recall of sentences with personal data")
    print("\n".join(sentences.lines()))
    print("presidio sentences flagged private, per entity type they contain")
    print("\n".join(spans.lines()))
    print(f"presidio sentences without personal data flagged: {ordinary_flagged}/{ordinary}")

    flagged, exact = indonesian_recall(args.indonesian)
    print(f"\nIndonesian Faker id_ID cases ({args.indonesian}): flagged private / found as that kind")
    for a, b in zip(flagged.lines(), exact.lines()):
        print(f"{a}   | {b.split(maxsplit=1)[1]}")

    per_kind, flagged_prompts, total = false_positives()
    print(f"\nrouter prompts (MMLU/GSM8K, no personal data): {flagged_prompts}/{total} flagged "
          f"({flagged_prompts / total:.2%})")
    for kind in KIND_LABELS:
        if per_kind[kind]:
            print(f"  {kind:<22} {per_kind[kind]:>5}  {per_kind[kind] / total:6.2%}")


if __name__ == "__main__":
    main()
