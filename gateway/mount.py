"""Put the gateway's routes on the app's HTTP server, ahead of Chainlit's catch-all route."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from answering import Pipeline
from gateway.key_routes import key_routes
from gateway.openai_api import openai_routes
from gateway.ops import Check, ops_routes
from gateway.service import ROUTE_NAME, Gateway
from router import Router
from settings import Settings
from signin import AccountStore


def mount_gateway(
    app: FastAPI, router: Router, settings: Settings, *, accounts: AccountStore | None = None,
    engine: AsyncEngine | None = None, pipeline: Pipeline | None = None, vector_store: Check | None = None,
) -> Gateway:
    """Serve /v1/models, /v1/chat/completions, /gateway/keys, /healthz, /readyz and /metrics on `app`.

    Returns the gateway. `accounts` lets keys of removed password accounts stop working and
    accounts-file admins be exempt from limits; `engine` shares the app's database pool (default:
    one of its own); `pipeline` the chat's answering pipeline (its limits then cover both). Mounting again (Chainlit's watch mode re-imports app.py) replaces the routes.
    """
    gateway = Gateway(router, settings, engine=engine, accounts=accounts, pipeline=pipeline)
    routes = [*openai_routes(gateway).routes, *key_routes(gateway).routes, *ops_routes(gateway, vector_store).routes]
    app.router.routes[:] = [route for route in app.router.routes if getattr(route, "name", None) != ROUTE_NAME]
    app.router.routes[0:0] = routes
    return gateway
