"""The Bahasa Indonesia UI: the translation mirrors chainlit's en-US.json, and browsers set to
Indonesian ("id" or "id-ID") get the Indonesian strings and user guide from chainlit 2.12."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from chainlit import config as chainlit_config
from chainlit.markdown import DEFAULT_MARKDOWN_STR, get_markdown_str

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / ".chainlit" / "translations"
ENGLISH = TRANSLATIONS / "en-US.json"
INDONESIAN_FILES = sorted([*TRANSLATIONS.glob("id.json"), *TRANSLATIONS.glob("id-*.json")])
INDONESIAN_GUIDE = ROOT / "chainlit_id-ID.md"
#: What `navigator.language` is in a browser set to Indonesian.
BROWSER_LANGUAGES = ("id", "id-ID")
PLACEHOLDER = re.compile(r"{{\s*[^{}]+?\s*}}")


def _leaves(tree: dict, prefix: str = "") -> dict[str, object]:
    """Every leaf of a nested translation, keyed by its dotted path."""
    leaves: dict[str, object] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        leaves |= _leaves(value, path) if isinstance(value, dict) else {path: value}
    return leaves


def _load(path: Path) -> dict[str, object]:
    return _leaves(json.loads(path.read_text(encoding="utf-8")))


def test_an_indonesian_translation_exists():
    assert INDONESIAN_FILES, f"no id.json or id-*.json in {TRANSLATIONS}"


@pytest.mark.parametrize("indonesian", INDONESIAN_FILES, ids=lambda path: path.name)
def test_indonesian_has_exactly_the_english_keys(indonesian: Path):
    english, translated = _load(ENGLISH), _load(indonesian)
    assert sorted(english.keys() - translated.keys()) == [], "missing in the Indonesian file"
    assert sorted(translated.keys() - english.keys()) == [], "not in en-US.json"
    empty = [path for path, text in translated.items() if not isinstance(text, str) or not text.strip()]
    assert empty == []


@pytest.mark.parametrize("indonesian", INDONESIAN_FILES, ids=lambda path: path.name)
def test_placeholders_are_kept(indonesian: Path):
    english, translated = _load(ENGLISH), _load(indonesian)
    found = {
        path: (sorted(PLACEHOLDER.findall(text)), sorted(PLACEHOLDER.findall(str(translated.get(path, "")))))
        for path, text in english.items()
    }
    differing = {path: pair for path, pair in found.items() if pair[0] != pair[1]}
    assert differing == {}


@pytest.mark.parametrize("indonesian", INDONESIAN_FILES, ids=lambda path: path.name)
def test_strings_are_actually_translated(indonesian: Path):
    """Guards against a copy of en-US.json; a few words ("Info", "Beta") are the same in both."""
    english, translated = _load(ENGLISH), _load(indonesian)
    unchanged = [path for path, text in english.items() if translated.get(path) == text]
    assert len(unchanged) < len(english) * 0.1, unchanged


@pytest.mark.parametrize("language", BROWSER_LANGUAGES)
def test_an_indonesian_browser_gets_the_indonesian_translation(language: str, monkeypatch):
    # chainlit resolves translations in <app root>/.chainlit/translations; point it at this checkout.
    monkeypatch.setattr(chainlit_config, "config_translation_dir", str(TRANSLATIONS))
    served = chainlit_config.config.load_translation(language)
    assert served["chat"]["input"]["placeholder"] == "Ketik pesan Anda di sini..."


def test_user_guides_are_written_and_parallel():
    english = (ROOT / "chainlit.md").read_text(encoding="utf-8")
    indonesian = INDONESIAN_GUIDE.read_text(encoding="utf-8")
    assert english.strip() and indonesian.strip()
    assert english != DEFAULT_MARKDOWN_STR, "chainlit.md is still chainlit's generated welcome text"
    headings = [re.findall(r"^#+ ", text, flags=re.MULTILINE) for text in (english, indonesian)]
    assert headings[0] == headings[1], "the Indonesian guide should have the English guide's sections"


@pytest.mark.parametrize("language", BROWSER_LANGUAGES)
def test_an_indonesian_browser_gets_the_indonesian_guide(language: str):
    # chainlit looks up exactly chainlit_<language>.md, without a fallback between "id" and "id-ID".
    assert get_markdown_str(str(ROOT), language) == INDONESIAN_GUIDE.read_text(encoding="utf-8")


def test_other_browsers_get_the_english_guide():
    assert get_markdown_str(str(ROOT), "en-US") == (ROOT / "chainlit.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("language, expected", [
    ("id-ID", "Tanya model yang lebih kuat"), ("id", "Tanya model yang lebih kuat"),
    ("en-US", "Ask a stronger model"), ("de-DE", "Ask a stronger model"),  # no sentences of ours: English
])
def test_the_chats_own_sentences_follow_the_browsers_language(language: str, expected: str, monkeypatch):
    from chat.translations import _strings, translated

    monkeypatch.setattr(chainlit_config, "config_translation_dir", str(TRANSLATIONS))
    _strings.cache_clear()
    assert translated("comparison.askStronger", language) == expected
    question = translated("comparison.question", language, first="A", second="B")
    assert "(A)" in question and "(B)" in question and "{{" not in question
