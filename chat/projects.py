"""Projects in the chat: which project a chat answers from, the chat settings, and the Projects panel.

A project's membership is re-checked on every use, so a removed member loses access at their
next message; only the owner may change a project (rename, invite, remove, make private, delete).
"""

from __future__ import annotations

import asyncio
import logging
import shutil

import chainlit as cl
from chainlit.input_widget import Select, Switch

from chat.documents import ask_for_pdfs, pdf_path
from chat.services import services
from chat.session import session
from chat.workarounds import action_callback
from persistence import (
    PersistenceError, Project, add_member, create_project, delete_project, list_members, list_projects,
    project_for, remove_member, rename_project, set_project_private,
)

log = logging.getLogger("hybrid_chat")
DEFAULT_PROJECT_NAME = "My project"


def _identities(user: cl.User) -> list[str]:
    """The names a project may know this user by: the account, and a verified e-mail (invitations)."""
    email = (user.metadata or {}).get("email")
    return [user.identifier] + ([email] if email and email != user.identifier else [])


async def _projects_of(user: cl.User) -> list[Project]:
    seen: dict[str, Project] = {}
    for identity in _identities(user):
        for project in await list_projects(services().engine, identity):
            seen.setdefault(project.id, project)
    return list(seen.values())


async def _usable(user: cl.User, project_id: str) -> Project | None:
    """The project when the user owns it or is a member (re-read: an owner's changes hold at once)."""
    return await project_for(services().engine, project_id, _identities(user))


async def readable_project() -> Project | None:
    """The session's project, or None (said in the chat) while the database cannot be read:
    the message is still answered, without the project's documents."""
    try:
        return await current_project()
    except PersistenceError as exc:
        log.error("project not read: %s", exc)
        await cl.Message(content="⚠️ This chat's project and its documents cannot be read right now (the "
                         "database is unavailable), so this answer does not use them and stays on this "
                         "machine.").send()
        return None


async def current_project() -> Project:
    """The session's project, re-checked on every use: a removed member loses access at once."""
    user = session.user
    project_id = session.project_id
    if project_id and (project := await _usable(user, project_id)) is not None:
        return project
    # Start in one's own project (created on first use), never silently in someone else's.
    projects = await _projects_of(user)
    project = next((p for p in projects if p.owner == user.identifier), None)
    if project is None:
        project = await create_project(services().engine, user.identifier, DEFAULT_PROJECT_NAME)
    session.project_id = project.id
    return project


async def show_settings() -> None:
    """Chat settings: which project this chat uses, and whether it is private."""
    project = await current_project()
    projects = await _projects_of(session.user)
    labels = {_project_label(p): p.id for p in projects}
    session.project_labels = labels
    await cl.ChatSettings([
        Select(id="project", label="Project", values=list(labels), initial_value=_project_label(project),
               description="Chats in a project answer from its documents."),
        Switch(id="private_chat", label="Private chat (local models only)",
               initial=session.private_chat),
    ]).send()


def _project_label(project: Project) -> str:
    user = session.user
    return project.name if project.owner == user.identifier else f"{project.name} (shared by {project.owner})"


async def settings_changed(values: dict) -> None:
    session.private_chat = bool(values.get("private_chat"))
    project_id = session.project_labels.get(values.get("project"))
    if project_id and project_id != session.project_id:
        if await _usable(session.user, project_id) is not None:
            session.project_id = project_id
            project = await current_project()
            # A toast: a message would stay hidden behind the welcome screen of a new chat.
            await cl.context.emitter.send_toast(f"Switched to the project {project.name}.", "success")


async def projects_panel() -> None:
    """The current project: its documents and members, with what the user may do."""
    project = await current_project()
    user = session.user
    owner = project.owner == user.identifier
    documents = await services().knowledge.list_documents(project.id)
    members = await list_members(services().engine, project.id)
    lines = [f"**Project: {project.name}**" + ("" if owner else f" (shared by {project.owner})"), ""]
    lines += [f"- {d.document} ({d.pages} pages, {d.chunks} passages)" if d.kind == "pdf"
              else f"- saved answer: {d.document}" for d in documents] or ["- no documents yet"]
    lines += ["", "**Members:** " + (", ".join(m.member for m in members) or "only you")]
    lines += ["", "**Privacy:** " + ("private, only models on this machine answer in this project" if project.private
                                     else "cloud models may answer in this project")]
    actions = [cl.Action(name="add_pdfs", payload={}, label="Add PDFs"),
               cl.Action(name="new_project", payload={}, label="New project")]
    if owner:
        actions += [cl.Action(name="remove_document", payload={"doc_id": d.doc_id, "name": d.document},
                              label=f"Remove {d.document}") for d in documents]
        actions += [cl.Action(name="rename_project", payload={}, label="Rename"),
                    cl.Action(name="invite_member", payload={}, label="Invite by e-mail"),
                    cl.Action(name="set_project_private", payload={"private": not project.private},
                              label="Allow cloud models" if project.private else "Make private")]
        actions += [cl.Action(name="remove_member", payload={"member": m.member}, label=f"Remove {m.member}")
                    for m in members]
        actions.append(cl.Action(name="delete_project", payload={}, label="Delete project"))
    await cl.Message(content="\n".join(lines), actions=actions).send()


async def _ask(question: str) -> str | None:
    answer = await cl.AskUserMessage(content=question, timeout=300).send()
    return (answer or {}).get("output", "").strip() or None


@action_callback("add_pdfs")
async def add_pdfs(action: cl.Action) -> None:
    await ask_for_pdfs(await current_project())


@action_callback("new_project")
async def new_project(action: cl.Action) -> None:
    if name := await _ask("Name of the new project?"):
        project = await create_project(services().engine, session.user.identifier, name)
        session.project_id = project.id
        await show_settings()
        await cl.Message(content=f"Created and switched to **{project.name}**.").send()


@action_callback("rename_project")
async def rename(action: cl.Action) -> None:
    project = await _owned_project()
    if project and (name := await _ask(f"New name for **{project.name}**?")):
        await rename_project(services().engine, project.id, name)
        await show_settings()
        await cl.Message(content=f"Renamed to **{name}**.").send()


@action_callback("invite_member")
async def invite(action: cl.Action) -> None:
    project = await _owned_project()
    email = project and await _ask(f"E-mail address to invite to **{project.name}**?")
    if not email:
        return
    if "@" not in email:
        await cl.Message(content=f"⚠️ {email} is not an e-mail address.").send()
        return
    await add_member(services().engine, project.id, email)
    await cl.Message(
        content=f"{email} can now use **{project.name}** and its documents.",
        actions=[cl.Action(name="remove_member", payload={"member": email}, label=f"Remove {email}")],
    ).send()


@action_callback("remove_member")
async def uninvite(action: cl.Action) -> None:
    project = await _owned_project()
    if project and await remove_member(services().engine, project.id, action.payload["member"]):
        await cl.Message(content=f"{action.payload['member']} no longer has access to **{project.name}**.").send()


@action_callback("remove_document")
async def remove_document(action: cl.Action) -> None:
    project = await _owned_project()
    if project and await services().knowledge.remove_document(project.id, action.payload["doc_id"]):
        await asyncio.to_thread(pdf_path(project.id, action.payload["doc_id"]).unlink, missing_ok=True)
        await cl.Message(content=f"Removed {action.payload['name']} and its passages.").send()


@action_callback("set_project_private")
async def set_private(action: cl.Action) -> None:
    project = await _owned_project()
    if project is None:
        return
    private = bool(action.payload.get("private"))
    await set_project_private(services().engine, project.id, private)
    said = (f"**{project.name}** is now private: from the next message on, only models on this machine answer "
            "in its chats." if private
            else f"**{project.name}** is no longer private: cloud models may answer in its chats again.")
    await cl.Message(content=said).send()


@action_callback("delete_project")
async def delete(action: cl.Action) -> None:
    project = await _owned_project()
    if project is None:
        return
    confirm = await cl.AskActionMessage(
        content=f"Delete **{project.name}**, its documents and its members' access?",
        actions=[cl.Action(name="yes", payload={"ok": True}, label="Delete"),
                 cl.Action(name="no", payload={"ok": False}, label="Keep")], timeout=120,
    ).send()
    if confirm and confirm.get("payload", {}).get("ok"):
        await services().knowledge.delete_project(project.id)
        await delete_project(services().engine, project.id)
        await asyncio.to_thread(shutil.rmtree, pdf_path(project.id, "x").parent, ignore_errors=True)
        session.project_id = None
        await show_settings()
        await cl.Message(content=f"Deleted **{project.name}**.").send()


async def _owned_project() -> Project | None:
    project = await current_project()
    if project.owner != session.user.identifier:
        await cl.Message(content=f"Only the owner ({project.owner}) can change **{project.name}**.").send()
        return None
    return project


@action_callback("save_to_knowledge")
async def save_to_knowledge(action: cl.Action) -> None:
    project = await current_project()
    user = session.user
    summary = await services().knowledge.save_artifact(project.id, user.identifier, action.payload["title"],
                                            action.payload["text"])
    await action.remove()
    await cl.Message(content=f"Saved to the knowledge of **{project.name}**: {summary.document}.").send()


