"""Plain VADER against the CX layer (feedback.text) on the labelled comments.

Run from the project root (no database needed):

    .venv/bin/python bench/eval_text.py                 # both halves, the README table
    .venv/bin/python bench/eval_text.py --errors dev    # also list what the CX layer got wrong

It also writes bench/results/text.json, which `make bench` reads for the
throughput ratio (bench/run_all.py runs this script as its `text` step).

The labelled set, bench/data/cx_comments.csv, has one comment a row: `id`,
`split` (dev / holdout), `kind` (what it is about), `polarity` (negative /
neutral / positive), `intents` (space-separated) and `text`. The split was
drawn once, by a hash of the text within each kind, before any rule was
written; rules are written against `dev` only and `holdout` is read to report.

What is measured, per half, for plain VADER (NLTK's analyzer with
vaderSentiment's lexicon, as feedback.sentiment scores today) and for the CX
layer, on the same texts:

- polarity: precision and recall per label, and the confusion matrix
  (rows: the label given, columns: the label predicted);
- complaints: a comment is a complaint when it is negative or has a
  complaint-type intent (complaint, churn_risk, high_effort,
  compliance_risk), for the labels given and for the prediction alike
  (`feedback.text.is_complaint`). Recall over the complaints; the false
  positive rate over the comments that are not (praise and neutral);
- intents: precision and recall per intent (plain VADER has none);
- throughput: comments per second, each analyser over the half's texts,
  timed in chunks of 25 with the two analysers in turn, each chunk's
  fastest of --rounds counting (the machine's load falls on both alike).

Targets (issue 16): complaint recall >= 90 %, false positives <= 5 %, churn
and compliance recall >= 90 %, CX throughput >= 80 % of plain VADER's.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "cx_comments.csv"
LABELS = ("negative", "neutral", "positive")
SPLITS = ("dev", "holdout")

TARGETS = {
    "complaint_recall": 0.90,
    "false_positive_rate": 0.05,
    "churn_risk_recall": 0.90,
    "compliance_risk_recall": 0.90,
    "speed_ratio": 0.80,
}


@dataclass(frozen=True)
class Row:
    id: int
    split: str
    kind: str
    polarity: str
    intents: frozenset[str]
    text: str


@dataclass(frozen=True)
class Prediction:
    label: str
    intents: frozenset[str]


def load_rows(path: Path = DATA) -> list[Row]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            Row(
                id=int(raw["id"]),
                split=raw["split"],
                kind=raw["kind"],
                polarity=raw["polarity"],
                intents=frozenset(raw["intents"].split()),
                text=raw["text"],
            )
            for raw in csv.DictReader(handle)
        ]


def setup_django() -> None:
    """Django settings without a database: feedback.sentiment reads its NLTK
    data directory from them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvx_site.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "eval-text-only")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ.setdefault("CVX_DATA_DIR", tempfile.mkdtemp(prefix="cvx-eval-text-"))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def analysers() -> dict[str, Callable[[str], Prediction]]:
    """name -> function from a comment to its prediction."""
    from feedback.sentiment import vader_sentiment
    from feedback.text import analyse, default_lexicon

    default_lexicon()  # built before any timing

    def vader(text: str) -> Prediction:
        return Prediction(vader_sentiment(text).label.value, frozenset())

    def cx(text: str) -> Prediction:
        analysis = analyse(text)
        return Prediction(analysis.label, frozenset(analysis.intents))

    return {"VADER": vader, "CX layer": cx}


# --- metrics ---------------------------------------------------------------------------


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def metrics(rows: Sequence[Row], predictions: Sequence[Prediction]) -> dict:
    """Every figure of one analyser on `rows` (see the module docstring)."""
    from feedback.text import INTENTS, is_complaint

    confusion = Counter((row.polarity, pred.label) for row, pred in zip(rows, predictions))
    polarity = {
        label: {
            "precision": ratio(confusion[label, label], sum(confusion[g, label] for g in LABELS)),
            "recall": ratio(confusion[label, label], sum(confusion[label, p] for p in LABELS)),
        }
        for label in LABELS
    }
    gold = [is_complaint(row.polarity, row.intents) for row in rows]
    said = [is_complaint(pred.label, pred.intents) for pred in predictions]
    complaints = sum(gold)
    intents = {}
    for intent in INTENTS:
        given = [intent in row.intents for row in rows]
        found = [intent in pred.intents for pred in predictions]
        both = sum(g and f for g, f in zip(given, found))
        intents[intent] = {
            "n": sum(given),
            "precision": ratio(both, sum(found)),
            "recall": ratio(both, sum(given)),
        }
    return {
        "n": len(rows),
        "accuracy": ratio(sum(confusion[label, label] for label in LABELS), len(rows)),
        "polarity": polarity,
        "confusion": {(g, p): confusion[g, p] for g in LABELS for p in LABELS},
        "complaints": complaints,
        "complaint_recall": ratio(sum(g and s for g, s in zip(gold, said)), complaints),
        "others": len(rows) - complaints,
        "false_positive_rate": ratio(sum(s and not g for g, s in zip(gold, said)), len(rows) - complaints),
        "intents": intents,
    }


def throughput(
    named: dict[str, Callable[[str], Prediction]], texts: Sequence[str], rounds: int = 20, chunk: int = 25
) -> dict[str, float]:
    """Comments per second of each analyser on the same texts.

    The texts are timed in chunks of `chunk`; each round times every chunk
    with every analyser in turn, so a change in the machine's load falls on
    both. A chunk's time is its fastest of `rounds` (as timeit advises: the
    slower ones measure other processes); the total is the sum of those."""
    for analyse in named.values():  # warm-up
        for text in texts:
            analyse(text)
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    best = {name: [float("inf")] * len(chunks) for name in named}
    for _ in range(rounds):
        for index, part in enumerate(chunks):
            for name, analyse in named.items():
                start = time.perf_counter()
                for text in part:
                    analyse(text)
                best[name][index] = min(best[name][index], time.perf_counter() - start)
    return {name: len(texts) / sum(times) for name, times in best.items()}


# --- printing ---------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def print_half(split: str, results: dict[str, dict], speed: dict[str, float]) -> None:
    names = list(results)
    first = results[names[0]]
    print(f"\n## {split}: {first['n']} comments, {first['complaints']} complaints, {first['others']} others\n")
    print(f"{'':34}" + "".join(f"{name:>18}" for name in names))
    lines = [("polarity accuracy", lambda m: pct(m["accuracy"]))]
    for label in LABELS:
        lines.append((f"{label} precision", lambda m, label=label: pct(m["polarity"][label]["precision"])))
        lines.append((f"{label} recall", lambda m, label=label: pct(m["polarity"][label]["recall"])))
    lines.append(("complaint recall", lambda m: pct(m["complaint_recall"])))
    lines.append(("false positives (praise/neutral)", lambda m: pct(m["false_positive_rate"])))
    for intent in first["intents"]:
        n = first["intents"][intent]["n"]
        lines.append((f"{intent} recall (n={n})", lambda m, i=intent: pct(m["intents"][i]["recall"])))
        lines.append((f"{intent} precision", lambda m, i=intent: pct(m["intents"][i]["precision"])))
    for title, show in lines:
        print(f"{title:34}" + "".join(f"{show(results[name]):>18}" for name in names))
    print(f"{'comments/s':34}" + "".join(f"{speed[name]:>18,.0f}" for name in names))
    for name in names:
        print(f"\nconfusion, {name} (rows: given, columns: predicted)")
        print(f"{'':>10}" + "".join(f"{p:>10}" for p in LABELS))
        for g in LABELS:
            print(f"{g:>10}" + "".join(f"{results[name]['confusion'][g, p]:>10}" for p in LABELS))


def verdicts(cx: dict, speed_ratio: float) -> dict[str, bool]:
    return {
        "complaint_recall": (cx["complaint_recall"] or 0) >= TARGETS["complaint_recall"],
        "false_positive_rate": (cx["false_positive_rate"] or 0) <= TARGETS["false_positive_rate"],
        "churn_risk_recall": (cx["intents"]["churn_risk"]["recall"] or 0) >= TARGETS["churn_risk_recall"],
        "compliance_risk_recall": (cx["intents"]["compliance_risk"]["recall"] or 0)
        >= TARGETS["compliance_risk_recall"],
        "speed_ratio": speed_ratio >= TARGETS["speed_ratio"],
    }


def print_markdown(summary: dict[str, tuple[dict, dict, dict]]) -> None:
    """One table for the README: each half, VADER | CX layer | target."""
    print("\n## Markdown for the README\n")
    header = "| Figure | " + " | ".join(f"{split}: VADER | {split}: CX layer" for split in summary) + " | Target |"
    print(header)
    print("|" + "---|" * (2 + 2 * len(summary)))

    def row(title: str, show: Callable[[dict], str], target: str) -> None:
        cells = " | ".join(f"{show(v)} | {show(c)}" for v, c, _ in summary.values())
        print(f"| {title} | {cells} | {target} |")

    row("Comments (complaints / others)", lambda m: f"{m['n']} ({m['complaints']} / {m['others']})", "")
    row("Complaint recall", lambda m: pct(m["complaint_recall"]), "≥ 90 %")
    row("False positives on praise/neutral", lambda m: pct(m["false_positive_rate"]), "≤ 5 %")
    row("Churn-risk recall", lambda m: pct(m["intents"]["churn_risk"]["recall"]), "≥ 90 %")
    row("Compliance-risk recall", lambda m: pct(m["intents"]["compliance_risk"]["recall"]), "≥ 90 %")
    row("High-effort recall", lambda m: pct(m["intents"]["high_effort"]["recall"]), "")
    row("Complaint-intent recall", lambda m: pct(m["intents"]["complaint"]["recall"]), "")
    row(
        "Praise recall / precision",
        lambda m: f"{pct(m['intents']['praise']['recall'])} / {pct(m['intents']['praise']['precision'])}",
        "",
    )
    row("Polarity accuracy", lambda m: pct(m["accuracy"]), "")
    for label in LABELS:
        row(
            f"{label.capitalize()} precision / recall",
            lambda m, label=label: f"{pct(m['polarity'][label]['precision'])} / {pct(m['polarity'][label]['recall'])}",
            "",
        )
    cells = " | ".join(
        f"{s['VADER']:,.0f} | {s['CX layer']:,.0f} ({s['CX layer'] / s['VADER']:.0%})" for _, _, s in summary.values()
    )
    print(f"| Comments/s (CX as % of VADER) | {cells} | ≥ 80 % |")


def print_errors(rows: Sequence[Row], predictions: Sequence[Prediction]) -> None:
    from feedback.text import analyse, is_complaint

    print("\n## CX layer errors (complaint, polarity or intent)\n")
    for row, pred in zip(rows, predictions):
        wrong_complaint = is_complaint(row.polarity, row.intents) != is_complaint(pred.label, pred.intents)
        if wrong_complaint or row.polarity != pred.label or row.intents != pred.intents:
            mark = "COMPLAINT " if wrong_complaint else ""
            print(
                f"{mark}#{row.id} [{row.kind}] given {row.polarity} {sorted(row.intents)} "
                f"got {pred.label} {sorted(pred.intents)}: {row.text}\n    {analyse(row.text).reasons()}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=DATA)
    parser.add_argument("--split", choices=[*SPLITS, "both"], default="both")
    parser.add_argument("--errors", choices=SPLITS, help="list the CX layer's errors on this half")
    parser.add_argument("--rounds", type=int, default=20, help="timings per chunk (the fastest counts)")
    parser.add_argument("--database-url", help="ignored: no database is needed (bench/run_all.py passes one)")
    args = parser.parse_args(argv)

    setup_django()
    rows = load_rows(args.csv)
    named = analysers()
    summary: dict[str, tuple[dict, dict, dict]] = {}
    for split in SPLITS if args.split == "both" else (args.split,):
        half = [row for row in rows if row.split == split]
        predictions = {name: [analyse(row.text) for row in half] for name, analyse in named.items()}
        results = {name: metrics(half, predictions[name]) for name in named}
        speed = throughput(named, [row.text for row in half], rounds=args.rounds)
        print_half(split, results, speed)
        summary[split] = (results["VADER"], results["CX layer"], speed)
        met = verdicts(results["CX layer"], speed["CX layer"] / speed["VADER"])
        print("\ntargets, CX layer: " + ", ".join(f"{k} {'met' if ok else 'NOT MET'}" for k, ok in met.items()))
        if args.errors == split:
            print_errors(half, predictions["CX layer"])
    print_markdown(summary)
    write_summary(summary)
    return 0


def write_summary(summary: dict[str, tuple[dict, dict, dict]]) -> None:
    """bench/results/text.json, for `make bench` (bench/run_all.py): per
    half, the CX layer's target figures and its speed as a share of plain
    VADER's on the same texts."""
    sys.path.insert(0, str(ROOT / "bench"))
    from common import write_results

    halves = {
        split: {
            "complaint_recall": cx["complaint_recall"],
            "false_positive_rate": cx["false_positive_rate"],
            "churn_risk_recall": cx["intents"]["churn_risk"]["recall"],
            "compliance_risk_recall": cx["intents"]["compliance_risk"]["recall"],
            "vader_per_s": round(speed["VADER"]),
            "cx_per_s": round(speed["CX layer"]),
            "speed_ratio": speed["CX layer"] / speed["VADER"],
        }
        for split, (_vader, cx, speed) in summary.items()
    }
    write_results("text", {"halves": halves, "speed_ratio": min(h["speed_ratio"] for h in halves.values())})


if __name__ == "__main__":
    sys.exit(main())
