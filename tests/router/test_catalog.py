import pytest

from router.catalog import CatalogError, ModelCatalog


def write(tmp_path, text: str):
    path = tmp_path / "models.toml"
    path.write_text(text)
    return path


def test_the_shipped_catalog_has_local_and_cloud_models():
    catalog = ModelCatalog.load()
    kinds = {spec.kind for spec in catalog}
    assert kinds == {"local", "cloud"}
    assert all(spec.cost(1_000_000, 0) == 0 for spec in catalog if spec.is_local)


def test_cost_uses_prices_per_million_tokens(tmp_path):
    catalog = ModelCatalog.load(write(tmp_path, """
[[models]]
id = "m"
provider = "openai"
model = "gpt"
kind = "cloud"
input_price = 2.0
output_price = 8.0
"""))
    assert catalog.get("m").cost(500_000, 250_000) == pytest.approx(1.0 + 2.0)


def test_overrides_replace_the_model_of_a_provider():
    catalog = ModelCatalog.load().with_overrides({"foundry-local": "phi-4-mini"})
    assert next(s for s in catalog if s.provider == "foundry-local").model == "phi-4-mini"


@pytest.mark.parametrize("text, message", [
    ("[[models]]\nid='x'\nprovider='p'\nkind='local'\n", "lacks the field 'model'"),
    ("[[models]]\nid='x'\nprovider='p'\nmodel='m'\nkind='edge'\n", "kind must be"),
    ("[[models", "not valid TOML"),
])
def test_malformed_files_name_the_problem(tmp_path, text, message):
    with pytest.raises(CatalogError, match=message):
        ModelCatalog.load(write(tmp_path, text))


def test_duplicate_ids_are_refused(tmp_path):
    entry = "[[models]]\nid='x'\nprovider='p'\nmodel='m'\nkind='local'\n"
    with pytest.raises(CatalogError, match="duplicate"):
        ModelCatalog.load(write(tmp_path, entry * 2))
