"""The routing policy: privacy first on every candidate, confirmation, availability, complexity, budget, load."""

from __future__ import annotations

import itertools

import pytest

from router.catalog import ModelCatalog
from router.complexity import ComplexityScore
from router.core import Router
from router.decision import AUTO_PROFILE, RouteRequest
from router.load import Load
from router.policy import RoutingPolicy, decide
from router.types import ChatMessage, Health

CATALOG = ModelCatalog.load()
UP = Health(True)
ALL_UP = {spec.provider: UP for spec in CATALOG}
HIGH = ComplexityScore(0.9, "embedding", threshold=0.5, cloud_share=0.3)
LOW = ComplexityScore(0.1, "embedding", threshold=0.5, cloud_share=0.3)
PERSONAL = "My e-mail is rina@example.com, please summarise the contract."
ORDINARY = "Prove that there are infinitely many primes."
MARKED = "this chat is marked private"  # a reason the chat gives


def request(text: str = ORDINARY, **fields) -> RouteRequest:
    return RouteRequest(messages=(ChatMessage("user", text),), **fields)


def health(**down: str) -> dict[str, Health]:
    """All providers up except `provider=reason` ones (underscores stand for dashes)."""
    down = {name.replace("_", "-"): reason for name, reason in down.items()}
    return {name: Health(False, down[name]) if name in down else UP for name in ALL_UP}


def ids(decision) -> list[str]:
    return [spec.id for spec in decision.candidates]


HEALTH_CASES = [ALL_UP, health(foundry_local="not loaded"), health(ollama="no server"),
                health(foundry_local="x", ollama="y"), health(gemini="no GEMINI_API_KEY", openai="no key")]


@pytest.mark.parametrize(("profile", "state", "score"), itertools.product(
    [AUTO_PROFILE, *(spec.id for spec in CATALOG)], HEALTH_CASES, [HIGH, LOW]))
def test_private_messages_never_list_a_cloud_model(profile, state, score):
    cases = [
        request(PERSONAL, profile=profile),
        request(ORDINARY, profile=profile, private_reason=MARKED),
        request("what about it?", profile=profile, passages=("Call Budi at +62 812 3456 7890",)),
        RouteRequest(messages=(ChatMessage("user", "my NIK is 3174055708900002"), ChatMessage("assistant", "ok"),
                               ChatMessage("user", "and now?")), profile=profile),
        request(PERSONAL, profile=profile, privacy_choice="local"),
    ]
    for req in cases:
        decision = decide(req, CATALOG, state, score=score)
        assert decision.private
        assert all(spec.is_local for spec in decision.candidates), (req, ids(decision))
    strict = decide(request(ORDINARY, profile=profile), CATALOG, state, score=score, strict_privacy=True)
    assert strict.private and all(spec.is_local for spec in strict.candidates)
    assert not strict.needs_confirmation


def test_private_with_no_local_model_sends_nothing_and_says_so():
    decision = decide(request(PERSONAL), CATALOG, health(foundry_local="not loaded", ollama="no server"), score=HIGH)
    assert decision.candidates == () and decision.route == "none"
    assert "nothing was sent" in decision.reasons[-1]
    assert "e-mail address found" in decision.reasons[0]


def test_cloud_profile_with_personal_data_asks_first_and_honours_each_answer():
    asked = decide(request(PERSONAL, profile="gemini-2.5-flash"), CATALOG, ALL_UP)
    assert asked.needs_confirmation and asked.candidates == () and asked.private
    assert "send anyway" in asked.reasons[0] and asked.privacy_kinds == ("email",)

    sent = decide(request(PERSONAL, profile="gemini-2.5-flash", privacy_choice="send"), CATALOG, ALL_UP)
    assert not sent.private and not sent.needs_confirmation and sent.privacy_choice == "send"
    assert ids(sent)[0] == "gemini-2.5-flash"
    assert "gpt-4.1-mini" not in ids(sent)  # consent was for the chosen model, fallbacks stay local

    local = decide(request(PERSONAL, profile="gemini-2.5-flash", privacy_choice="local"), CATALOG, ALL_UP)
    assert local.private and local.privacy_choice == "local" and local.route == "local"
    assert "you chose to answer locally" in local.reasons[0]


@pytest.mark.parametrize("system", [["PERSONAL"], ["Be brief.", "PERSONAL"]])
def test_personal_data_in_a_system_turn_a_client_sent_is_private(system):
    """API clients write their own system (and developer) turns: they may hold personal data too."""
    turns = tuple(ChatMessage("system", PERSONAL if text == "PERSONAL" else text) for text in system)
    client = RouteRequest(messages=(*turns, ChatMessage("user", ORDINARY)), profile="gpt-4.1-mini")
    decision = decide(client, CATALOG, ALL_UP)
    assert decision.private and decision.privacy_kinds == ("email",) and not ids(decision)
    assert decision.privacy_findings[0].source == f"history[{len(system) - 1}]"


def test_a_private_chat_or_strict_mode_overrides_a_cloud_profile_without_asking():
    marked = decide(request(PERSONAL, profile="gpt-4.1-mini", private_reason=MARKED, privacy_choice="send"), CATALOG, ALL_UP)
    assert marked.private and marked.route == "local" and not marked.needs_confirmation
    assert MARKED in marked.reasons[0], "the route step says why, in the chat's words"
    strict = decide(request(ORDINARY, profile="gpt-4.1-mini"), CATALOG, ALL_UP, strict_privacy=True)
    assert strict.private and strict.route == "local"
    assert "the operator made privacy strict" in strict.reasons[0]


def test_complexity_threshold_picks_the_route_and_fallback_order():
    cloud = decide(request(), CATALOG, ALL_UP, score=HIGH)
    assert ids(cloud) == ["gemini-2.5-flash", "gpt-4.1-mini", "smollm2-135m", "ollama"]
    assert "strong win rate 0.90 ≥ threshold 0.50 (target 30% cloud) → cloud" in cloud.reasons
    assert (cloud.strong_win_rate, cloud.threshold) == (0.9, 0.5)
    local = decide(request(), CATALOG, ALL_UP, score=LOW)
    assert ids(local) == ["smollm2-135m", "ollama"] and not local.private
    assert "strong win rate 0.10 < threshold 0.50 (target 30% cloud) → local" in local.reasons


def test_unavailable_providers_are_skipped_with_a_reason():
    decision = decide(request(), CATALOG, health(gemini="no GEMINI_API_KEY"), score=HIGH)
    assert ids(decision)[0] == "gpt-4.1-mini" and "gemini-2.5-flash" not in ids(decision)
    assert "Gemini 2.5 Flash unavailable (no GEMINI_API_KEY) → GPT-4.1 mini" in decision.reasons
    chosen = decide(request(profile="ollama"), CATALOG, health(ollama="no server"))
    assert ids(chosen) == ["smollm2-135m"]
    assert any(r.startswith("Llama 3.2 3B (Ollama) unavailable (no server)") for r in chosen.reasons)


def test_no_local_model_sends_ordinary_messages_to_the_cloud():
    decision = decide(request(), CATALOG, health(foundry_local="x", ollama="y"), score=LOW)
    assert decision.route == "cloud" and "no local model is available → cloud" in decision.reasons


SPENT = "your daily budget of $1.00 is used up"


def test_a_spent_budget_keeps_complex_messages_local():
    decision = decide(request(cloud_budget_spent=SPENT), CATALOG, ALL_UP, score=HIGH)
    assert decision.route == "local" and f"{SPENT} → local" in decision.reasons


def test_a_spent_budget_answers_a_cloud_profile_locally_and_says_why():
    decision = decide(request(profile="gpt-4.1-mini", cloud_budget_spent=SPENT), CATALOG, ALL_UP)
    assert decision.route == "local" and not decision.needs_confirmation
    assert f"you chose GPT-4.1 mini, but {SPENT} → local instead" in decision.reasons


def test_a_spent_budget_with_personal_data_on_a_cloud_profile_stays_local_without_asking():
    decision = decide(request("My e-mail is budi@example.com", profile="gpt-4.1-mini", cloud_budget_spent=SPENT),
                      CATALOG, ALL_UP)
    assert decision.route == "local" and decision.private and not decision.needs_confirmation


def test_a_spent_budget_and_no_local_model_sends_nothing():
    down = health(foundry_local="x", ollama="y")
    for profile in ("auto", "gpt-4.1-mini"):
        decision = decide(request(profile=profile, cloud_budget_spent=SPENT), CATALOG, down, score=HIGH)
        assert decision.model is None, profile
        assert any(SPENT in reason for reason in decision.reasons)


def test_an_explicit_cloud_profile_falls_back_to_other_cloud_then_local_models():
    decision = decide(request(profile="gpt-4.1-mini"), CATALOG, ALL_UP)
    assert ids(decision) == ["gpt-4.1-mini", "gemini-2.5-flash", "smollm2-135m", "ollama"]
    assert decision.reasons == ("you chose GPT-4.1 mini",)


def test_unknown_profile_is_explained():
    decision = decide(request(profile="nope"), CATALOG, ALL_UP)
    assert decision.candidates == () and decision.reasons == ("unknown model 'nope'",)


def test_policy_without_embedder_uses_the_heuristic_and_says_so(tmp_path):
    from settings import Settings

    settings = Settings(EMBEDDING_MODEL=str(tmp_path / "missing-model"), ROUTER_CLOUD_SHARE=0.3)
    policy = RoutingPolicy.from_settings(settings)
    decision = policy.decide(request(), CATALOG, ALL_UP)
    assert decision.strong_win_rate is not None
    assert any("heuristic used" in reason for reason in decision.reasons)


def test_policy_loads_the_weights_an_admin_retrained_into_the_data_folder(tmp_path):
    from settings import Settings

    settings = Settings(DATA_DIR=tmp_path)
    assert RoutingPolicy.from_settings(settings).scorer is not None, "the shipped weights"
    settings.retrained_weights_file.parent.mkdir(parents=True)
    settings.retrained_weights_file.write_bytes(b"not a weights file")
    assert RoutingPolicy.from_settings(settings).scorer is None, "the retrained file was read (unusable here)"


async def test_router_routes_through_its_policy_off_the_event_loop():
    router = Router(CATALOG, {}, policy=RoutingPolicy(strict_privacy=True))
    decision = await router.route(request())
    assert decision.private and decision.candidates == ()  # no backends built: nothing is available
    assert decision.reasons[-1] == "no local model is available, so nothing was sent"


@pytest.mark.parametrize("profile", [AUTO_PROFILE, "gpt-4.1-mini", "smollm2-135m"])
def test_a_privacy_scan_that_raises_keeps_the_message_local(monkeypatch, profile):
    """Fail closed: a scan that cannot check a message must not let it reach a cloud model."""
    def broken(_text):
        raise RuntimeError("scanner bug")

    monkeypatch.setattr("router.privacy._candidates", broken)
    decision = decide(request(ORDINARY, profile=profile), CATALOG, ALL_UP, score=HIGH)
    assert decision.private
    assert all(spec.is_local for spec in decision.candidates)
    assert decision.privacy_kinds == ("unscanned",)
    assert "text the privacy scan could not check found" in " ".join(decision.reasons)


# --- load: long lines ---------------------------------------------------------------------------------------------

LOCAL_BUSY = Load({"foundry-local": 25.0}, local_max_wait_s=10, max_wait_s=600)
ALL_LOCAL_BUSY = Load({"foundry-local": 25.0, "ollama": 40.0}, local_max_wait_s=10, max_wait_s=600)
OVERLOADED = Load({"foundry-local": 700.0, "ollama": 900.0}, local_max_wait_s=10, max_wait_s=600)
LOCAL_ONLY_AND_GEMINI = health(ollama="no server", openai="no key")


def test_an_auto_message_spills_to_another_local_model_first_and_says_why():
    decision = decide(request(), CATALOG, ALL_UP, score=LOW, load=LOCAL_BUSY)
    assert ids(decision) == ["ollama", "smollm2-135m"] and not decision.private
    assert decision.spilled_from == "foundry-local"
    assert decision.reasons[-1] == "SmolLM2 135M (Foundry Local) busy, about 25 s in line → Llama 3.2 3B (Ollama)"


def test_an_auto_message_spills_to_the_cloud_when_every_local_line_is_long():
    decision = decide(request(), CATALOG, LOCAL_ONLY_AND_GEMINI, score=LOW, load=LOCAL_BUSY)
    assert ids(decision) == ["gemini-2.5-flash", "smollm2-135m"], "the busy local model stays as a fallback"
    assert decision.route == "cloud" and decision.spilled_from == "foundry-local"
    assert decision.reasons[-1] == "SmolLM2 135M (Foundry Local) busy, about 25 s in line → Gemini 2.5 Flash"
    assert ids(decide(request(), CATALOG, ALL_UP, score=LOW, load=ALL_LOCAL_BUSY))[0] == "gemini-2.5-flash"


def test_a_short_line_is_no_reason_to_spill():
    decision = decide(request(), CATALOG, ALL_UP, score=LOW, load=Load({"foundry-local": 9.0}, local_max_wait_s=10))
    assert ids(decision)[0] == "smollm2-135m" and decision.spilled_from is None
    unmeasured = decide(request(), CATALOG, ALL_UP, score=LOW, load=Load({"foundry-local": None}, local_max_wait_s=0))
    assert ids(unmeasured)[0] == "smollm2-135m", "a line nothing was timed in yet is not known to be long"


def test_a_spent_budget_waits_for_the_local_model_instead_of_spilling_to_the_cloud():
    decision = decide(request(cloud_budget_spent="your daily budget is used up"), CATALOG, LOCAL_ONLY_AND_GEMINI,
                      score=LOW, load=LOCAL_BUSY)
    assert ids(decision) == ["smollm2-135m"] and decision.spilled_from is None


@pytest.mark.parametrize("req", [request(PERSONAL), request(ORDINARY, private_reason=MARKED)])
def test_a_private_message_never_spills_to_the_cloud_but_may_go_to_another_local_model(req):
    waits = decide(req, CATALOG, LOCAL_ONLY_AND_GEMINI, score=HIGH, load=LOCAL_BUSY)
    assert ids(waits) == ["smollm2-135m"] and waits.private and waits.spilled_from is None
    moved = decide(req, CATALOG, ALL_UP, score=HIGH, load=LOCAL_BUSY)
    assert ids(moved) == ["ollama", "smollm2-135m"] and moved.private and moved.spilled_from == "foundry-local"


@pytest.mark.parametrize("profile", ["smollm2-135m", "gemini-2.5-flash"])
def test_a_pinned_profile_waits_in_its_line(profile):
    load = Load({"foundry-local": 25.0, "gemini": 25.0}, local_max_wait_s=10, max_wait_s=600)
    decision = decide(request(profile=profile), CATALOG, ALL_UP, score=LOW, load=load)
    assert ids(decision)[0] == profile and decision.spilled_from is None


@pytest.mark.parametrize("req", [request(PERSONAL), request(private_reason="this chat is marked private")])
def test_a_private_message_beyond_the_hard_limit_is_told_to_try_again(req):
    decision = decide(req, CATALOG, LOCAL_ONLY_AND_GEMINI, score=LOW, load=OVERLOADED)
    assert decision.candidates == () and decision.retry_after_s == 100
    assert decision.reasons[-1] == ("SmolLM2 135M (Foundry Local) is busy (about 700 s in line), "
                                    "so nothing was sent: try again in about 100 s")


@pytest.mark.parametrize("req", [request(profile="smollm2-135m"),
                                 request(cloud_budget_spent="your daily budget is used up")])
def test_any_other_message_that_can_only_wait_waits_however_long_the_line(req):
    decision = decide(req, CATALOG, LOCAL_ONLY_AND_GEMINI, score=LOW, load=OVERLOADED)
    assert ids(decision)[0] == "smollm2-135m" and decision.retry_after_s is None


def test_an_overloaded_machine_still_spills_what_may_go_to_the_cloud():
    decision = decide(request(), CATALOG, LOCAL_ONLY_AND_GEMINI, score=LOW, load=OVERLOADED)
    assert ids(decision)[0] == "gemini-2.5-flash" and decision.retry_after_s is None
