"""`python -m gateway keys create|list|revoke`: manage users' gateway API keys from a shell.

The fallback until the chat offers it (and the operator's tool): it uses the same
database as the app (DATABASE_URL, or the SQLite file in DATA_DIR). A new key is
printed once; only its hash is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from gateway.api_keys import issue_key, list_keys, revoke_key
from persistence import PersistenceError, create_engine, database_url, upgrade_database
from settings import get_settings


async def _run(args: argparse.Namespace) -> int:
    url = database_url(get_settings())
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        if args.action == "create":
            key, stored = await issue_key(engine, args.user, args.name)
            print(key)
            print(f"Key {stored.id} ({stored.prefix}…) created for {stored.user_identifier}. "
                  "Copy it now: it is not shown again.", file=sys.stderr)
        elif args.action == "list":
            for key in await list_keys(engine, args.user):
                state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M} UTC"
                print(f"{key.id}  {key.prefix}…  {key.name}  created {key.created_at:%Y-%m-%d %H:%M} UTC  {state}")
        elif not await revoke_key(engine, args.user, args.key_id):
            print(f"{args.user} has no active key {args.key_id}.", file=sys.stderr)
            return 1
        else:
            print(f"Key {args.key_id} revoked.", file=sys.stderr)
        return 0
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    keys = commands.add_parser("keys", help="create, list or revoke a user's API keys")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key (printed once on stdout)")
    create.add_argument("--user", required=True, help="the user identifier, as in the chat (login name or e-mail)")
    create.add_argument("--name", default="", help="a label to tell keys apart, e.g. 'laptop'")
    listing = actions.add_parser("list", help="list a user's keys (prefixes only)")
    listing.add_argument("--user", required=True)
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("--user", required=True)
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except PersistenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
