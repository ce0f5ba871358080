"""Ownership checks chainlit 2.12 lacks on `PUT /feedback` and `DELETE /feedback`.

Chainlit checks only that the caller is signed in: anyone who learns a message or feedback id
could rate or delete feedback in someone else's chat. These routes run first, check that the
message (and the feedback being replaced or deleted) belongs to a thread the caller owns, then
hand over to chainlit's own handlers (which also call the app's `on_feedback`).
"""

from __future__ import annotations

from typing import Any

from chainlit.auth import get_current_user
from chainlit.types import DeleteFeedbackRequest, UpdateFeedbackRequest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request

from .data_layer import HybridDataLayer


def make_feedback_router(data_layer: HybridDataLayer) -> APIRouter:
    from chainlit import server  # the app itself: imported when the routes are built, not before

    router = APIRouter()

    async def require_owner(user: Any, thread_id: str | None) -> None:
        if user is None:
            raise HTTPException(status_code=401, detail="Unauthorized")
        if not thread_id or await data_layer.get_thread_author(thread_id) != user.identifier:
            raise HTTPException(status_code=404, detail="Message not found")

    @router.put("/feedback")
    async def update_feedback(request: Request, update: UpdateFeedbackRequest, user: Any = Depends(get_current_user)):
        await require_owner(user, await data_layer.get_step_thread(update.feedback.forId))
        if update.feedback.id:
            replaced = await data_layer.get_feedback_thread(update.feedback.id)
            if replaced is not None:
                await require_owner(user, replaced)
        return await server.update_feedback(request, update, user)

    @router.delete("/feedback")
    async def delete_feedback(request: Request, payload: DeleteFeedbackRequest, user: Any = Depends(get_current_user)):
        await require_owner(user, await data_layer.get_feedback_thread(payload.feedbackId))
        return await server.delete_feedback(request, payload, user)

    return router


def install_feedback_guard(app: FastAPI, data_layer: HybridDataLayer) -> APIRouter:
    """Put the guarded feedback routes in front of chainlit's. Returns the router (to remove it in tests)."""
    router = make_feedback_router(data_layer)
    app.router.routes[0:0] = router.routes
    return router
