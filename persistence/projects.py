"""Projects and their members (the knowledge and chats the next issues scope by project).

Storage only: *who may* rename a project or add a member is the app's decision. Members are
identified by e-mail or user identifier, compared case-insensitively.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ._tables import project_members, projects
from .engine import writing
from .errors import database_errors

#: The one role a member has: they chat with the project's knowledge and add or remove its documents.
MEMBER_ROLE = "editor"
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    owner: str
    created_at: datetime
    private: bool
    role: str = "owner"  # the listing user's role: "owner" or MEMBER_ROLE


@dataclass(frozen=True)
class Member:
    member: str
    role: str
    added_at: datetime


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValueError("A project needs a name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValueError(f"A project name has at most {MAX_NAME_LENGTH} characters")
    return cleaned


def normalise_member(member: str) -> str:
    cleaned = (member or "").strip().lower()
    if not cleaned or any(ch.isspace() for ch in cleaned):
        raise ValueError("A member is an e-mail address or a user name without spaces")
    return cleaned


def _project(row: sa.Row, role: str = "owner") -> Project:
    return Project(row.id, row.name, row.owner, as_utc(row.created_at), bool(row.private), role)


async def create_project(engine: AsyncEngine, owner: str, name: str, private: bool = False) -> Project:
    project = Project(str(uuid.uuid4()), _clean_name(name), owner, datetime.now(timezone.utc), private)
    with database_errors("create a project"):
        async with writing(engine) as conn:
            await conn.execute(projects.insert().values(
                id=project.id, name=project.name, owner=owner, created_at=project.created_at, private=private,
            ))
    return project


async def get_project(engine: AsyncEngine, project_id: str) -> Project | None:
    with database_errors("read a project"):
        async with engine.connect() as conn:
            row = (await conn.execute(projects.select().where(projects.c.id == project_id))).first()
    return _project(row) if row else None


async def rename_project(engine: AsyncEngine, project_id: str, name: str) -> None:
    await _update_one(engine, project_id, name=_clean_name(name))


async def set_project_private(engine: AsyncEngine, project_id: str, private: bool) -> None:
    await _update_one(engine, project_id, private=private)


async def _update_one(engine: AsyncEngine, project_id: str, **values: object) -> None:
    with database_errors("update a project"):
        async with writing(engine) as conn:
            result = await conn.execute(projects.update().where(projects.c.id == project_id).values(**values))
    if result.rowcount == 0:
        raise LookupError("No such project")


async def delete_project(engine: AsyncEngine, project_id: str) -> bool:
    """Delete a project and its memberships; False when it did not exist."""
    with database_errors("delete a project"):
        async with writing(engine) as conn:
            await conn.execute(project_members.delete().where(project_members.c.project_id == project_id))
            result = await conn.execute(projects.delete().where(projects.c.id == project_id))
    return result.rowcount > 0


async def list_projects(engine: AsyncEngine, user: str) -> list[Project]:
    """Projects the user owns or is a member of, by name."""
    member = user.strip().lower()
    query = (
        sa.select(projects, project_members.c.role)
        .outerjoin(project_members, sa.and_(
            project_members.c.project_id == projects.c.id, project_members.c.member == member,
        ))
        .where(sa.or_(projects.c.owner == user, project_members.c.member.is_not(None)))
        .order_by(sa.func.lower(projects.c.name), projects.c.id)
    )
    with database_errors("list projects"):
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).all()
    return [_project(row, "owner" if row.owner == user else row.role) for row in rows]


async def add_member(engine: AsyncEngine, project_id: str, member: str) -> None:
    """Add a member; adding one who is already a member changes nothing."""
    member = normalise_member(member)
    if await get_project(engine, project_id) is None:
        raise LookupError("No such project")
    with database_errors("add a project member"):
        async with writing(engine) as conn:
            present = await conn.scalar(sa.select(project_members.c.member).where(
                project_members.c.project_id == project_id, project_members.c.member == member,
            ))
            if present is None:
                await conn.execute(project_members.insert().values(
                    project_id=project_id, member=member, role=MEMBER_ROLE, added_at=datetime.now(timezone.utc),
                ))


async def remove_member(engine: AsyncEngine, project_id: str, member: str) -> bool:
    with database_errors("remove a project member"):
        async with writing(engine) as conn:
            result = await conn.execute(project_members.delete().where(
                project_members.c.project_id == project_id, project_members.c.member == normalise_member(member),
            ))
    return result.rowcount > 0


async def list_members(engine: AsyncEngine, project_id: str) -> list[Member]:
    query = project_members.select().where(project_members.c.project_id == project_id).order_by(project_members.c.member)
    with database_errors("list project members"):
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).all()
    return [Member(row.member, row.role, as_utc(row.added_at)) for row in rows]


async def project_for(engine: AsyncEngine, project_id: str, users: Sequence[str]) -> Project | None:
    """The project when one of `users` (the names one person is known by) owns it or is a member, else None.

    One query: the chat re-checks this for every message, before the model is asked.
    """
    members = [user.strip().lower() for user in users]
    role = sa.case((projects.c.owner.in_(users), sa.literal("owner")), else_=sa.literal(MEMBER_ROLE)).label("role")
    query = sa.select(projects, role).where(projects.c.id == project_id, sa.or_(
        projects.c.owner.in_(users),
        sa.exists().where(project_members.c.project_id == project_id, project_members.c.member.in_(members)),
    ))
    with database_errors("read a project"):
        async with engine.connect() as conn:
            row = (await conn.execute(query)).first()
    return _project(row, row.role) if row else None
