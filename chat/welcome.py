"""What a new chat offers: the chat profiles ("Auto" and one per model), starters and commands."""

from __future__ import annotations

import chainlit as cl

from chat.retraining import RETRAIN_COMMAND
from chat.services import services
from chat.session import session
from router import AUTO_PROFILE
from signin import is_admin

AUTO_PROFILE_NAME = "Auto"
ENGLISH_COMMAND = "English practice"
PROJECTS_COMMAND = "Projects"
ADD_PDFS_COMMAND = "Add PDFs"


def profile_id(profile_name: str) -> str:
    """The router's profile for a chat profile's name: "auto" or a catalog id."""
    ids = {spec.label: spec.id for spec in services().router.catalog}
    return ids.get(profile_name or AUTO_PROFILE_NAME, AUTO_PROFILE)


async def chat_profiles() -> list[cl.ChatProfile]:
    """"Auto" plus one profile per model; unavailable models stay listed with the reason."""
    router = services().router
    health = await router.health()
    profiles = [
        cl.ChatProfile(
            name=AUTO_PROFILE_NAME,
            markdown_description="The router picks a model for each message: private or simple questions "
            "stay on this machine, complex ones may go to a cloud model. Each answer says why.",
            default=True,
        )
    ]
    for spec in router.catalog:
        state = health[spec.provider]  # the router answers for every provider its catalog names
        where = "runs on this machine" if spec.is_local else "cloud model: your messages leave this machine"
        if state.available:
            profiles.append(cl.ChatProfile(name=spec.label, markdown_description=f"{spec.label}, {where}."))
        else:
            profiles.append(
                cl.ChatProfile(
                    name=spec.label,
                    display_name=f"{spec.label} (unavailable)",
                    markdown_description=f"**Unavailable:** {state.reason}. See the README to enable it.",
                )
            )
    return profiles


def starters() -> list[cl.Starter]:
    return [
        cl.Starter(
            label="Practise my English",
            message="Yesterday I go to the market and buyed three apple. Is my sentence correct?",
            command=ENGLISH_COMMAND,
        ),
        cl.Starter(label="Explain a concept", message="Explain what a hash map is, with a short example."),
        cl.Starter(label="Draft an e-mail", message="Write a short, polite e-mail asking to move a meeting to Friday."),
        cl.Starter(label="Brainstorm", message="Give me five names for a small neighbourhood bakery."),
    ]


async def send_commands() -> None:
    """The composer's commands; admins also get the router's retraining."""
    admin = [{"id": RETRAIN_COMMAND, "description": "Admins: retrain the router on the shipped data and this "
              "deployment's comparisons and thumbs", "icon": "graduation-cap", "button": False, "persistent": False}]
    await cl.context.emitter.set_commands(
        [
            {
                "id": ENGLISH_COMMAND,
                "description": "Correct my English, suggest better words and give usage tips",
                "icon": "languages",
                "button": True,
                "persistent": True,
            },
            {"id": PROJECTS_COMMAND, "description": "This project's documents and members; new, rename, "
             "invite, delete", "icon": "folder", "button": False, "persistent": False},
            {"id": ADD_PDFS_COMMAND, "description": "Add PDFs to this project's knowledge", "icon": "file-plus",
             "button": False, "persistent": False},
            *(admin if is_admin(session.user) else []),
        ]
    )
