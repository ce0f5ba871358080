"""The model catalog: which models exist, who serves them, whether they are local, what they cost.

It lives in one TOML file users can edit (`router/models.toml`, or `MODELS_FILE`);
a few environment variables override single fields so a deployment can switch a
model without copying the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from router.types import Kind

DEFAULT_MODELS_FILE = Path(__file__).with_name("models.toml")
_KINDS = ("local", "cloud")


class CatalogError(ValueError):
    """The models file is missing or malformed; the message names the entry and field."""


@dataclass(frozen=True)
class ModelSpec:
    """One routable model."""

    id: str
    label: str
    provider: str
    model: str
    kind: Kind
    context_length: int
    input_price: float = 0.0
    output_price: float = 0.0

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for one call, from the per-million-token prices."""
        return (prompt_tokens * self.input_price + completion_tokens * self.output_price) / 1_000_000


class ModelCatalog:
    """An ordered, read-only set of `ModelSpec`s (order = preference among equals)."""

    def __init__(self, models: list[ModelSpec]) -> None:
        ids = [spec.id for spec in models]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise CatalogError(f"duplicate model ids: {', '.join(sorted(duplicates))}")
        self._models = list(models)

    def __iter__(self):
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)

    def get(self, model_id: str) -> ModelSpec | None:
        return next((spec for spec in self._models if spec.id == model_id), None)

    def with_overrides(self, overrides: dict[str, str]) -> ModelCatalog:
        """A copy where `{provider: model name}` replaces the model of that provider's entries."""
        return ModelCatalog(
            [replace(spec, model=overrides[spec.provider]) if overrides.get(spec.provider) else spec
             for spec in self._models]
        )

    @classmethod
    def load(cls, path: Path | None = None) -> ModelCatalog:
        path = path or DEFAULT_MODELS_FILE
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CatalogError(f"models file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{path.name} is not valid TOML: {exc}") from None
        return cls([_parse_entry(entry, index) for index, entry in enumerate(data.get("models", []))])


def _parse_entry(entry: dict, index: int) -> ModelSpec:
    where = f"models[{index}]"
    try:
        spec = ModelSpec(
            id=str(entry["id"]),
            label=str(entry.get("label", entry["id"])),
            provider=str(entry["provider"]),
            model=str(entry["model"]),
            kind=entry["kind"],
            context_length=int(entry.get("context_length", 4096)),
            input_price=float(entry.get("input_price", 0.0)),
            output_price=float(entry.get("output_price", 0.0)),
        )
    except KeyError as exc:
        raise CatalogError(f"{where} lacks the field {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise CatalogError(f"{where} has a bad value: {exc}") from None
    if spec.kind not in _KINDS:
        raise CatalogError(f"{where}.kind must be 'local' or 'cloud', not {spec.kind!r}")
    return spec
