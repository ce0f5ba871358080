"""The routing policy: turn a `RouteRequest` and the backends' health into a `RouteDecision`.

Order of precedence: an explicit profile, then availability; with "auto", the first
available local model. (Privacy and complexity scoring extend this.)
"""

from __future__ import annotations

from collections.abc import Mapping

from router.catalog import ModelCatalog, ModelSpec
from router.decision import AUTO_PROFILE, RouteDecision, RouteRequest
from router.types import Health


def decide(request: RouteRequest, catalog: ModelCatalog, health: Mapping[str, Health]) -> RouteDecision:
    """Pick the models for one message, best first, with human-readable reasons."""

    def available(spec: ModelSpec) -> bool:
        state = health.get(spec.provider)
        return state is not None and state.available

    if request.profile != AUTO_PROFILE:
        spec = catalog.get(request.profile)
        if spec is None:
            return RouteDecision((), request.private, (f"unknown model '{request.profile}'",))
        if not available(spec):
            reason = health.get(spec.provider, Health(False, "no backend configured")).reason
            return RouteDecision((), request.private, (f"{spec.label} is unavailable: {reason}",))
        return RouteDecision((spec,), request.private, (f"you chose {spec.label}",))

    local = tuple(spec for spec in catalog if spec.is_local and available(spec))
    if not local:
        return RouteDecision((), True, ("no local model is available",))
    return RouteDecision(local, request.private, (f"auto: {local[0].label} is the first available local model",))
