"""Projects and memberships on both engines."""

from __future__ import annotations

import pytest

from persistence import (
    add_member,
    create_project,
    delete_project,
    get_project,
    list_members,
    list_projects,
    project_for,
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
    as_bob = await project_for(engine, thesis.id, ["bob", "BOB@example.org"])  # his account and his e-mail
    assert (as_bob.name, as_bob.owner, as_bob.role) == ("Thesis notes", "alice", "editor")
    assert (await project_for(engine, thesis.id, ["alice"])).role == "owner"
    assert await project_for(engine, thesis.id, ["carol", "carol@example.org"]) is None
    assert await project_for(engine, "missing", ["alice"]) is None

    assert [(p.name, p.role) for p in await list_projects(engine, "alice")] == [("archive", "owner"), ("Thesis notes", "owner")]
    assert [(p.name, p.role) for p in await list_projects(engine, "bob@example.org")] == [("Thesis notes", "editor")]

    await rename_project(engine, thesis.id, "Thesis")
    await set_project_private(engine, thesis.id, True)
    stored = await get_project(engine, thesis.id)
    assert stored.name == "Thesis" and stored.private
    assert (await project_for(engine, thesis.id, ["bob@example.org"])).private  # what the chat routes by

    assert await remove_member(engine, thesis.id, "bob@example.org")
    assert await project_for(engine, thesis.id, ["bob@example.org"]) is None
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
