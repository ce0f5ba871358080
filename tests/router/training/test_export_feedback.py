"""The deployment's comparisons and thumbs exported as preference rows, from a real database on both engines,
and `train_complexity --from-feedback` adding that file to the training data."""

from __future__ import annotations

import asyncio
import json
import uuid

import chainlit as cl
from chainlit.types import Feedback
from chainlit.user import User

from persistence import AnswerRoute, Comparison, record_answer_route, record_comparison
from router.training import export_feedback, train_complexity
from router.training.export_feedback import export, preference_rows
from settings import get_settings
from tests.persistence.conftest import (  # noqa: F401  (fixtures: one database per engine)
    chainlit_context, database_url, empty_database_url, layer, storage,
)


async def rated_answer(layer, user: str, prompt: str, route: str, value: int) -> str:
    owner = await layer.create_user(User(identifier=user))
    thread_id = str(uuid.uuid4())
    await layer.update_thread(thread_id, name=prompt, user_id=owner.id)
    reply = cl.Message(content="an answer", type="assistant_message")
    reply.thread_id = thread_id
    await layer.create_step(reply.to_dict())
    model = "smollm2-135m" if route == "local" else "gpt-4.1-mini"
    await record_answer_route(layer.engine, AnswerRoute(reply.id, user, prompt, model, route, thread_id=thread_id))
    await layer.upsert_feedback(Feedback(forId=reply.id, threadId=thread_id, value=value))
    return reply.id


async def test_the_export_writes_one_preference_row_per_comparison_and_thumb(layer, database_url, tmp_path):
    for preference, prompt in (("cloud", "Prove it."), ("local", "Say hi."), ("both", "Name a colour.")):
        await record_comparison(layer.engine, Comparison("alice", f"a-{preference}", f"b-{preference}", prompt,
                                                         "smollm2-135m", "gpt-4.1-mini", "local", preference))
    down_local = await rated_answer(layer, "alice", "Integrate x^2.", "local", 0)
    up_local = await rated_answer(layer, "bob", "What is 1+1?", "local", 1)
    up_cloud = await rated_answer(layer, "bob", "Write a sonnet.", "cloud", 1)
    down_cloud = await rated_answer(layer, "alice", "Tell me a joke.", "cloud", 0)

    out = tmp_path / "feedback.jsonl"
    done = await export(out, database_url)

    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (done.comparisons, done.thumbs, len(rows)) == (3, 4, 7)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows), "sorted by id: the same export every time"
    assert all(set(r) == {"id", "prompt", "strong_score", "weak_score", "source", "created_at"} for r in rows)
    scores = {r["prompt"]: (r["strong_score"], r["weak_score"]) for r in rows}
    assert scores == {
        "Prove it.": (1.0, 0.0), "Say hi.": (0.0, 1.0), "Name a colour.": (1.0, 1.0),  # comparisons
        "Integrate x^2.": (0.5, 0.0), "What is 1+1?": (1.0, 1.0),  # thumbs on local answers
        "Write a sonnet.": (1.0, 0.5), "Tell me a joke.": (0.0, 0.0),  # thumbs on cloud answers
    }
    thumb_ids = {r["id"] for r in rows if r["source"] == "feedback-thumb"}
    assert thumb_ids == {f"feedback-thumb-{s}" for s in (down_local, up_local, up_cloud, down_cloud)}


def test_an_empty_deployment_exports_an_empty_file(tmp_path):
    out = tmp_path / "sub" / "feedback.jsonl"
    export_feedback.write_rows(preference_rows([], []), out)
    assert out.read_text() == ""


def test_from_feedback_adds_the_exported_labels_as_the_deployments_own_data(monkeypatch, tmp_path):
    shipped = tmp_path / "shipped.jsonl"
    shipped.write_text('{"id": "a", "prompt": "p", "strong_correct": true, "weak_correct": false}\n')
    exported = tmp_path / "feedback.jsonl"
    exported.write_text('{"id": "b", "prompt": "q", "strong_score": 1, "weak_score": 0}\n')  # as the export leaves it
    monkeypatch.setattr(train_complexity, "feedback_data_files", lambda: [exported])
    monkeypatch.setattr(train_complexity, "shared_static_embedder", lambda settings: None)
    trained_on = []

    class Weights:
        meta = {"rows": 2, "domain_rows": 1, "mean_target": 0.5, "positive_share": 0.5}

        def save(self, path):
            path.write_bytes(b"weights")

    def fake_train(data_files, *args, domain_files=(), **kwargs):
        trained_on.append((list(data_files), list(domain_files)))
        return Weights()

    monkeypatch.setattr(train_complexity, "train", fake_train)
    train_complexity.main(["--data", str(shipped), "--from-feedback", "--out", str(tmp_path / "w.npz")])
    assert trained_on == [([shipped], [exported])]


async def test_nothing_stored_yet_adds_no_data_file(layer, database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(export_feedback.feedback_data_files) == []
    finally:
        get_settings.cache_clear()
    assert (tmp_path / "router" / "feedback.jsonl").read_text() == ""
