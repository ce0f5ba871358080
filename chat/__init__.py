"""The chat: Chainlit's UI on top of the packages; app.py registers these handlers and nothing else.

Owns what a person sees in the browser: the welcome screen (`welcome`), a message's answer
(`answers`, rendering the `answering` pipeline's events), chat start, resume and save notices
(`history`), projects and settings (`projects`), uploads and citations (`documents`), the typed
session state (`session`) and every Chainlit workaround (`workarounds`, with the version it targets).
"""

from chat.answers import on_message
from chat.history import not_saved, resume, start
from chat.projects import settings_changed
from chat.services import Services, install
from chat.welcome import chat_profiles, starters
from chat.workarounds import configure_sessions_without_nesting, install_route_fixes, use_private_upload_folder

__all__ = [
    "Services", "chat_profiles", "configure_sessions_without_nesting", "install", "install_route_fixes",
    "not_saved", "on_message", "resume", "settings_changed", "start", "starters", "use_private_upload_folder",
]
