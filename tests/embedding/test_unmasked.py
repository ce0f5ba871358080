"""A text embedded alone runs the model without its attention mask: the same vector bit for bit, and
a rewrite that would change it is never used."""

from __future__ import annotations

import onnx
import pytest
from onnx import helper, numpy_helper

import embedding._embedder
from embedding import OnnxEmbedder, load_embedder, onnx_int8_path, shared_embedder
from embedding._unmasked import unmasked_model
from settings import get_settings
from tests.embedding.test_embedder import LONG_TEXTS
from tests.support.knowledge_pdfs import TOPIC_PAGES

TEXTS = [
    "hello!", "x", "", "Janet's ducks lay 16 eggs per day. How much does she make every day at the market?",
    "Let p = (1, 2, 5, 4)(2, 3) in S_5. Find the index of <p> in S_5.\nA. 8\nB. 2\nC. 24\nD. 120\nAnswer:",
    "Nama saya Budi, NIK 3171011505900001, tinggal di Jl. Melati No. 5 RT 03/RW 07.",
    *TOPIC_PAGES, *(text[:3000] for text in LONG_TEXTS),
]


@pytest.fixture(scope="module")
def embedders() -> tuple[OnnxEmbedder, OnnxEmbedder]:
    """The shared embedder, and one whose texts alone run the masked model (the rewrite not applied)."""
    fast = shared_embedder(get_settings())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(embedding._embedder, "unmasked_model", lambda _onnx_file: None)
        masked = load_embedder(get_settings())
    assert isinstance(fast, OnnxEmbedder) and isinstance(masked, OnnxEmbedder)
    return fast, masked


@pytest.mark.parametrize("max_tokens", [64, 256])
def test_a_text_alone_gets_the_masked_models_vector_bit_for_bit(embedders, max_tokens):
    fast, masked = embedders
    assert fast.alone_unmasked and not masked.alone_unmasked
    for text in TEXTS:
        assert fast.embed([text], max_tokens=max_tokens).tobytes() == masked.embed([text], max_tokens=max_tokens).tobytes(), text


def test_batches_keep_the_masked_model(embedders):
    fast, masked = embedders
    padded = ["short", "a much longer text that pads the short one in the same batch"]
    assert fast.embed(padded).tobytes() == masked.embed(padded).tobytes()


def test_the_rewrite_drops_the_mask_and_its_nan_guard():
    model = onnx.load_from_string(unmasked_model(_exported_model()))
    operators = [node.op_type for node in model.graph.node]
    assert operators.count("Softmax") == 6 and "IsNaN" not in operators
    producers = {output: node.op_type for node in model.graph.node for output in node.output}
    assert {producers[node.input[0]] for node in model.graph.node if node.op_type == "Softmax"} != {"Add"}
    assert not any("attention_mask" in node.input for node in model.graph.node)


def test_a_graph_without_the_pattern_is_left_alone(tmp_path):
    plain = helper.make_model(helper.make_graph(
        [helper.make_node("Softmax", ["x"], ["y"])], "plain",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])]))
    onnx.save(plain, tmp_path / "plain.onnx")
    assert unmasked_model(tmp_path / "plain.onnx") is None


def test_a_rewrite_that_changes_the_output_is_not_used(monkeypatch):
    def off_by_a_little(onnx_file):
        model = onnx.load_from_string(unmasked_model(onnx_file))
        norm = next(t for t in model.graph.initializer if t.name == "model.embeddings.LayerNorm.weight")
        norm.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(norm) * 1.001, norm.name))
        return model.SerializeToString()

    monkeypatch.setattr(embedding._embedder, "unmasked_model", off_by_a_little)
    embedder = load_embedder(get_settings())
    assert not embedder.alone_unmasked
    assert embedder.embed(["hello"]).tobytes() == shared_embedder(get_settings()).embed(["hello"]).tobytes()


def _exported_model():
    settings = get_settings()
    return onnx_int8_path(settings.embedding_model_path, settings.models_dir)
