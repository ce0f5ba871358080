"""Projects and memberships on both engines."""

from __future__ import annotations

import pytest

from persistence import (
    add_member,
    create_project,
    delete_project,
    get_project,
    is_member,
    list_members,
    list_projects,
    remove_member,
    rename_project,
    set_project_private,
)


async def test_project_lifecycle_and_membership(layer):
    engine = layer.engine
    thesis = await create_project(engine, "alice", "  Thesis   notes ")
    await create_project(engine, "alice", "archive", private=True)
    await create_project(engine, "bob", "Bob's")
    assert thesis.name == "Thesis notes" and thesis.created_at.tzinfo is not None

    await add_member(engine, thesis.id, "Bob@Example.org")
    await add_member(engine, thesis.id, "bob@example.org")  # already a member: not a duplicate
    assert [(m.member, m.role) for m in await list_members(engine, thesis.id)] == [("bob@example.org", "editor")]
    assert await is_member(engine, thesis.id, "BOB@example.org")
    assert await is_member(engine, thesis.id, "alice")
    assert not await is_member(engine, thesis.id, "carol@example.org")

    assert [(p.name, p.role) for p in await list_projects(engine, "alice")] == [("archive", "owner"), ("Thesis notes", "owner")]
    assert [(p.name, p.role) for p in await list_projects(engine, "bob@example.org")] == [("Thesis notes", "editor")]

    await rename_project(engine, thesis.id, "Thesis")
    await set_project_private(engine, thesis.id, True)
    stored = await get_project(engine, thesis.id)
    assert stored.name == "Thesis" and stored.private

    assert await remove_member(engine, thesis.id, "bob@example.org")
    assert not await is_member(engine, thesis.id, "bob@example.org")
    assert await delete_project(engine, thesis.id)
    assert await get_project(engine, thesis.id) is None
    assert not await delete_project(engine, thesis.id)


async def test_bad_input_gets_clear_errors(layer):
    engine = layer.engine
    project = await create_project(engine, "alice", "p")
    with pytest.raises(ValueError, match="needs a name"):
        await create_project(engine, "alice", "   ")
    with pytest.raises(ValueError, match="e-mail"):
        await add_member(engine, project.id, "bob smith")
    with pytest.raises(LookupError):
        await add_member(engine, "missing", "bob@example.org")
    with pytest.raises(LookupError):
        await rename_project(engine, "missing", "x")
