"""How often the embedded model's answers loop, under which generation settings, and after the guard.

Fifty everyday prompts (cooking, science, advice, writing, code, lists, questions about a
passage) are answered by the embedded SmolLM2 with the chat's system prompt, temperature
and answer limit, one fixed seed per prompt. Each settings variant runs in the same
process on the same prompts; "looping" is `router.repetition.is_looping` (a line said
twice, or the same eight words three times). "shown" is what users see: the answer after
`RepetitionGuard`.

    .venv/bin/python bench/bench_looping.py [--prompts 50] [--variants genai:repetition_penalty=1.0,default]

A variant is `default` (the model folder as prepared, sampled as the app samples), `name=value` for a
Foundry Local `SearchOptions` field, or `genai:name=value` for a field of the model's
`genai_config.json` search section (run from a copy of the model folder); join several with `+`.
(Foundry Local 2.2.1 refuses a nonzero `frequency_penalty`: "ORT repetition_penalty has
different semantics"; the runtime's own `repetition_penalty` is set in `genai_config.json`.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from router.backends.foundry_local import FoundryLocalBackend  # noqa: E402
from router.conversation import GENERAL_MODE, SYSTEM_PROMPTS  # noqa: E402
from router.embedded_model import prepare_embedded_model  # noqa: E402
from router.repetition import RepetitionGuard, is_looping  # noqa: E402
from settings import get_settings  # noqa: E402

PROMPTS = [
    "How do I boil an egg?", "Summarise the water cycle.", "What is photosynthesis?",
    "Give me three tips for a job interview.", "Write a short poem about autumn.",
    "Explain what a hash map is.", "How do I make a cup of tea?", "What causes the seasons?",
    "List five fruits that are high in vitamin C.", "What is the difference between weather and climate?",
    "How can I sleep better?", "Write a thank-you note to a neighbour who watered my plants.",
    "What is a black hole?", "How do vaccines work?", "Explain recursion to a beginner.",
    "What should I pack for a weekend camping trip?", "Why is the sky blue?",
    "Write a Python function that reverses a string.", "What are the planets in our solar system?",
    "How do I start learning to play the guitar?", "Describe the rules of chess briefly.",
    "What is inflation?", "How do I write a good cover letter?", "What is the capital of Australia?",
    "Give me a simple recipe for pancakes.", "How does a refrigerator keep food cold?",
    "What are the benefits of regular exercise?", "Explain the difference between a virus and a bacterium.",
    "How do I change a flat tyre?", "Write a short story about a lost cat in three sentences.",
    "What is machine learning?", "How can I save money on groceries?", "What is the Pythagorean theorem?",
    "Translate 'good morning, how are you?' into French.", "How do plants grow from seeds?",
    "What is the boiling point of water at sea level?", "Suggest a name for a bakery.",
    "What are some ways to reduce stress?", "How does the internet work, in simple terms?",
    "Explain what DNA is.", "What time zones does the United States have?",
    "Opening hours: Monday to Friday 9:00-17:00, Saturday 10:00-14:00, closed on Sundays. "
    "When is the shop open on Saturday?",
    "The ferry leaves Harbour Street at 7:15 and 12:30 on weekdays and at 11:00 on Sundays. "
    "When does the Sunday ferry leave?",
    "What is a good way to memorise vocabulary?", "How do I clean a cast-iron pan?",
    "Write an SQL query that counts the rows of a table named orders.", "What is the tallest mountain on Earth?",
    "Explain supply and demand.", "How many legs does a spider have, and why?",
    "Give me a packing list for a beach holiday.",
]


def answer(model, prompt: str, search: dict, max_tokens: int, seed: int) -> str:
    from foundry_local_sdk import ChatSession, MessageItem, Request, RequestOptions, SearchOptions, TextItem

    parts: list[str] = []
    with ChatSession(model) as session, Request() as request:
        session.set_options(RequestOptions(search=SearchOptions(max_output_tokens=max_tokens, seed=seed, **search)))
        session.set_streaming(True)
        request.add_item(MessageItem.system(SYSTEM_PROMPTS[GENERAL_MODE]))
        request.add_item(MessageItem.user(prompt))
        with session.process_streaming_request(request) as stream:
            for item in stream:
                if isinstance(item, TextItem) and item.text:
                    parts.append(item.text)
    return "".join(parts)


def guarded(text: str, piece: int = 4) -> str:
    """What a user sees of `text` streamed through the guard in small pieces, as a model streams."""
    guard = RepetitionGuard()
    shown = "".join(guard.feed(text[i:i + piece]) for i in range(0, len(text), piece))
    return shown + guard.finish()


def load_model(folder: Path, app_data_dir: Path):
    """The SDK's model object for `folder`, loaded as the app loads it (the search options are set per request)."""
    backend = FoundryLocalBackend(model=str(folder), app_data_dir=app_data_dir)
    asyncio.run(backend.start())
    if backend._model is None:
        sys.exit(f"the model in {folder} could not be loaded")
    return backend._model


def parse_variant(text: str) -> tuple[dict, dict]:
    """(SearchOptions fields, genai_config search fields) of one `--variants` entry ("a=1+genai:b=2")."""
    search: dict = {}
    genai: dict = {}
    for setting in text.split("+"):
        if setting == "default":
            continue
        name, value = setting.split("=", 1)
        into = genai if name.startswith("genai:") else search
        into[name.removeprefix("genai:")] = json.loads(value)
    return search, genai


def model_folder_with(source: Path, genai_search: dict, scratch: Path, name: str) -> Path:
    if not genai_search:
        return source
    folder = scratch / name
    shutil.copytree(source, folder)
    config_path = folder / "genai_config.json"
    config = json.loads(config_path.read_text())
    config["search"].update(genai_search)
    config_path.write_text(json.dumps(config, indent=2))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=len(PROMPTS))
    parser.add_argument("--variants", default="genai:repetition_penalty=1.0,default,genai:repetition_penalty=1.2",
                        help="1.0 is the builder's default; `default` is the folder as prepared (1.1)")
    parser.add_argument("--temperature", type=float, default=0.7, help="the chat's temperature")
    parser.add_argument("--max-tokens", type=int, default=get_settings().max_output_tokens)
    args = parser.parse_args()

    source = prepare_embedded_model(get_settings().models_dir)
    prompts = PROMPTS[:args.prompts]
    print(f"{len(prompts)} prompts, temperature {args.temperature}, up to {args.max_tokens} tokens each")
    print(f"{'variant':<34} {'looping':>8} {'shown looping':>14} {'mean chars':>11} {'s/answer':>9}")
    with tempfile.TemporaryDirectory() as scratch:
        for index, variant in enumerate(args.variants.split(",")):
            search, genai = parse_variant(variant)
            folder = model_folder_with(source, genai, Path(scratch), f"smollm2-variant{index}")
            model = load_model(folder, Path(scratch) / "foundry")
            search = {"temperature": args.temperature, "do_sample": args.temperature > 0, **search}
            started = time.perf_counter()
            answers = [answer(model, prompt, search, args.max_tokens, seed) for seed, prompt in enumerate(prompts)]
            took = (time.perf_counter() - started) / len(prompts)
            model.unload()
            looping = sum(map(is_looping, answers)) / len(answers)
            shown = sum(is_looping(guarded(text)) for text in answers) / len(answers)
            mean_chars = sum(map(len, answers)) / len(answers)
            print(f"{variant:<34} {looping:>8.0%} {shown:>14.0%} {mean_chars:>11.0f} {took:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
