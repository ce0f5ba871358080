"""`/gateway/keys`: signed-in users list, create and revoke their own API keys over HTTP.

Authenticated like every Chainlit request (the session cookie or bearer token, re-checked by
the sign-in guard), so the chat UI, a settings page or `curl` with a session can call it.
The new key appears only in the creation response, never in a chat message (messages are
saved in the history). Creation and revocation require a JSON body or no body at all, so a
cross-site form cannot trigger them with the user's cookie.
"""

from __future__ import annotations

from chainlit.auth import get_current_user
from chainlit.user import User
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.api_keys import issue_key, list_keys, revoke_key
from gateway.service import ROUTE_NAME, Gateway
from persistence import ApiKey

PATH = "/gateway/keys"


def _described(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "prefix": key.prefix, "created_at": key.created_at.isoformat(),
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None, "active": key.active}


def _refused(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def key_routes(gateway: Gateway) -> APIRouter:
    api = APIRouter()

    async def listed(user: User = Depends(get_current_user)) -> Response:
        if user is None:
            return _refused(401, "Sign in to manage API keys.")
        keys = await list_keys(await gateway.database(), user.identifier)
        return JSONResponse({"data": [_described(key) for key in keys]})

    async def created(request: Request, user: User = Depends(get_current_user)) -> Response:
        if user is None:
            return _refused(401, "Sign in to manage API keys.")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _refused(415, "Send a JSON body, e.g. {\"name\": \"laptop\"}.")
        try:
            body = await request.json()
        except ValueError:
            return _refused(400, "The body is not valid JSON.")
        name = body.get("name", "") if isinstance(body, dict) else ""
        if not isinstance(name, str) or len(name) > 100:
            return _refused(400, "'name' must be a text of at most 100 characters.")
        key, stored = await issue_key(await gateway.database(), user.identifier, name)
        return JSONResponse({"key": key, **_described(stored)}, status_code=201, headers={"cache-control": "no-store"})

    async def revoked(key_id: str, user: User = Depends(get_current_user)) -> Response:
        if user is None:
            return _refused(401, "Sign in to manage API keys.")
        if not await revoke_key(await gateway.database(), user.identifier, key_id):
            return _refused(404, "You have no active key with this id.")
        return Response(status_code=204)

    api.add_api_route(PATH, listed, methods=["GET"], name=ROUTE_NAME, include_in_schema=False)
    api.add_api_route(PATH, created, methods=["POST"], name=ROUTE_NAME, include_in_schema=False)
    api.add_api_route(PATH + "/{key_id}", revoked, methods=["DELETE"], name=ROUTE_NAME, include_in_schema=False)
    return api
