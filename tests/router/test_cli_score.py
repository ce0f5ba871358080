"""`python -m router score`: ten thousand prompts in one run, one decision line each, no model called.

The 10,000-prompt run scores with the embedding-free heuristic (embedding 10,000 prompts takes
minutes on two shared cores: see the report); a smaller run checks the embedding path itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from settings import PROJECT_ROOT

PERSONAL = [
    "my e-mail is ani{i}@example.com, can you fix my CV?",
    "Hubungi saya di 0812-3456-{i:04d} ya",
    "card 4111 1111 1111 1111, order {i}: why was it declined?",
]
ORDINARY = [
    "hi {i}",
    "What is {i} plus 7?",
    "A farmer has {i} cows and buys 3 times as many sheep; each sheep costs $120 and each cow $900. After selling a "
    "quarter of all animals at cost, how much money is tied up in the remaining herd?",
    "Explain the proof that there are infinitely many primes, then generalise it to primes of the form 4k+3 ({i}).",
]


def run_score(lines: list[str], tmp_path: Path, **env_vars: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "PRIVACY_STRICT": "false", "ROUTER_CLOUD_SHARE": "0.3", **env_vars}
    return subprocess.run(
        [sys.executable, "-m", "router", "score"], input="\n".join(lines) + "\n", capture_output=True, text=True,
        cwd=PROJECT_ROOT, env=env, timeout=900, check=False,
    )


def prompts(count: int) -> list[dict]:
    """Every tenth prompt holds personal data."""
    rows = []
    for i in range(count):
        templates = PERSONAL if i % 10 == 0 else ORDINARY
        rows.append({"id": f"p{i}", "prompt": templates[i % len(templates)].format(i=i)})
    return rows


def check_decisions(rows: list[dict], sent: list[dict]) -> None:
    assert [row["id"] for row in rows] == [p["id"] for p in sent]
    expected = {"id", "private", "privacy_kinds", "strong_win_rate", "route", "backend", "reasons"}
    assert all(expected <= row.keys() for row in rows)
    private = [row for i, row in enumerate(rows) if i % 10 == 0]
    assert all(row["private"] and row["route"] == "local" and row["privacy_kinds"] for row in private)
    assert all(row["reasons"][0].startswith("private (") for row in private)
    ordinary = [row for i, row in enumerate(rows) if i % 10]
    assert not any(row["private"] for row in ordinary)
    assert all(0.0 <= row["strong_win_rate"] <= 1.0 for row in rows)
    assert {row["route"] for row in ordinary} == {"local", "cloud"}
    cloud = [row for row in ordinary if row["route"] == "cloud"]
    assert all(row["backend"] in ("gemini", "openai") and row["strong_win_rate"] >= row["threshold"] for row in cloud)
    assert all("strong win rate" in row["reasons"][-1] for row in cloud)


def test_ten_thousand_prompts_in_one_run(tmp_path):
    sent = prompts(10_000)
    result = run_score([json.dumps(p) for p in sent], tmp_path, EMBEDDING_MODEL=str(tmp_path / "no-embedder"))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    check_decisions(rows, sent)
    assert all("heuristic used" in row["reasons"][0] for i, row in enumerate(rows) if i % 10)


def test_scores_with_the_local_embedder(tmp_path):
    sent = prompts(300)
    result = run_score([json.dumps(p) for p in sent], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    check_decisions(rows, sent)
    assert not any("heuristic" in reason for row in rows for reason in row["reasons"])


def test_bad_lines_get_an_error_line_and_a_failing_exit(tmp_path):
    result = run_score(['{"id": 1, "prompt": "hello"}', "not json", '{"id": 3}'], tmp_path,
                       EMBEDDING_MODEL=str(tmp_path / "no-embedder"))
    assert result.returncode == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["id"] == 1 and rows[0]["route"] == "local"
    assert rows[1] == {"id": None, "error": "line 2: not JSON (Expecting value)"}
    assert rows[2]["id"] == 3 and "string 'prompt'" in rows[2]["error"]
    assert "2 malformed input line(s)" in result.stderr
