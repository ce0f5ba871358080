"""Measure the privacy scan: recall on labelled personal data, false positives on ordinary prompts.

    .venv/bin/python -m router.training.evaluate_privacy [--part report|tune] [--indonesian N] [--misses]

Recall: presidio-research's synthetic sentences (`../shared/data/privacy/`) and Faker id_ID
Indonesian cases; false positives: the router's MMLU/GSM8K prompts, which hold no personal data,
so every flag there is a false one. Each source is split (`router.training.privacy_data`): the
figures to quote are the "report" part's; `--part tune --misses` shows what to work on.

A sentence counts as found when the scan flags it private (that is what keeps it local). A
presidio sentence whose only personal data is a name is listed apart: a name alone is not private
here by design ("Janet has 3 apples"), so it is not part of the recall.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field

from router.privacy import KIND_LABELS, scan_text
from router.training.data import shared_data_dir
from router.training.indonesian_cases import generate
from router.training.privacy_data import PARTS, Part, presidio_sentences, router_prompts

#: presidio entity types that are personal data in our sense, and the kind that should find them.
PRESIDIO_KINDS = {
    "PERSON": "person_name", "STREET_ADDRESS": "street_address", "CREDIT_CARD": "payment_card",
    "PHONE_NUMBER": "phone", "EMAIL_ADDRESS": "email", "IBAN_CODE": "iban", "IP_ADDRESS": "ip_address",
    "US_SSN": "us_ssn", "US_DRIVER_LICENSE": "id_number",
}
OVERALL = "all personal data"


@dataclass
class Tally:
    found: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    missed: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, hit: bool, text: str = "") -> None:
        self.total[key] += 1
        self.found[key] += hit
        if not hit:
            self.missed.setdefault(key, []).append(text)

    def rate(self, key: str) -> float:
        return self.found[key] / self.total[key] if self.total[key] else float("nan")

    def lines(self) -> list[str]:
        return [f"  {key:<22} {self.found[key]:>5}/{self.total[key]:<5} {self.rate(key):6.1%}" for key in sorted(self.total)]


@dataclass
class Recall:
    """Sentences flagged private, per kind they hold and over all of them."""

    per_kind: Tally = field(default_factory=Tally)
    #: Indonesian cases found as their own kind (not just flagged).
    exact: Tally = field(default_factory=Tally)
    names_only: Tally = field(default_factory=Tally)
    ordinary: Tally = field(default_factory=Tally)


def measure_recall(part: Part, indonesian: int) -> Recall:
    recall = Recall()
    for sentence in presidio_sentences(part):
        flagged = bool(scan_text(sentence.text))
        personal = {PRESIDIO_KINDS[t] for t in sentence.types if t in PRESIDIO_KINDS}
        if not personal:
            recall.ordinary.add("presidio", not flagged, sentence.text)
        elif personal == {"person_name"}:
            recall.names_only.add("presidio", flagged, sentence.text)
        else:
            recall.per_kind.add(OVERALL, flagged, sentence.text)
            for kind in personal - {"person_name"}:
                recall.per_kind.add(kind, flagged, sentence.text)
    for case in generate(indonesian, part):
        kinds = {f.kind for f in scan_text(case.text)}
        if not case.kind:
            recall.ordinary.add("indonesian", not kinds, case.text)
            continue
        recall.per_kind.add(OVERALL, bool(kinds), case.text)
        recall.per_kind.add(case.kind, bool(kinds), case.text)
        recall.exact.add(case.kind, case.kind in kinds, case.text)
    return recall


def false_positives(part: Part) -> tuple[Counter, int, int, list[str]]:
    """(flags per kind, prompts flagged, prompts, the flagged prompts) on the router's ordinary questions."""
    per_kind: Counter = Counter()
    flagged: list[str] = []
    prompts = router_prompts(part)
    for prompt in prompts:
        kinds = {f.kind for f in scan_text(prompt)}
        if kinds:
            flagged.append(prompt)
        per_kind.update(kinds)
    return per_kind, len(flagged), len(prompts), flagged


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=PARTS, default="report", help="report (quote it) or tune (work on it)")
    parser.add_argument("--indonesian", type=int, default=600, help="number of generated Indonesian cases")
    parser.add_argument("--misses", action="store_true", help="print every missed sentence and false flag")
    args = parser.parse_args(argv)
    if not shared_data_dir().exists():
        parser.error(f"no shared data at {shared_data_dir()} (set SHARED_DATA_DIR)")

    recall = measure_recall(args.part, args.indonesian)
    print(f"part: {args.part}\nrecall (sentences flagged private) per kind they hold, presidio + Indonesian")
    print("\n".join(recall.per_kind.lines()))
    print("Indonesian cases found as their own kind")
    print("\n".join(recall.exact.lines()))
    print("not counted above: presidio sentences whose only personal data is a name (flagged)")
    print("\n".join(recall.names_only.lines()))
    print("sentences without personal data left alone")
    print("\n".join(recall.ordinary.lines()))

    per_kind, flagged, total, flagged_prompts = false_positives(args.part)
    print(f"\nfalse-private: router prompts (MMLU/GSM8K, no personal data) flagged {flagged}/{total} "
          f"({flagged / total:.2%})")
    for kind in KIND_LABELS:
        if per_kind[kind]:
            print(f"  {kind:<22} {per_kind[kind]:>5}  {per_kind[kind] / total:6.2%}")

    if args.misses:
        for tally, what in ((recall.per_kind, "missed"), (recall.ordinary, "flagged")):
            for key, texts in sorted(tally.missed.items()):
                if key != OVERALL:
                    print(f"\n--- {what}: {key}\n" + "\n".join(repr(text) for text in texts))
        print("\n--- flagged router prompts\n" + "\n".join(repr(prompt[:300]) for prompt in flagged_prompts))


if __name__ == "__main__":
    main()
