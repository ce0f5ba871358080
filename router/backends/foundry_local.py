"""Foundry Local, in-process: the router's default local backend.

`foundry-local-sdk` runs the Foundry Local runtime inside this process (no service).
A model comes either from the public catalog by alias (`FOUNDRY_MODEL=phi-4-mini`,
downloaded once with progress, needs internet) or from a local ONNX Runtime GenAI
folder registered with the SDK's bring-your-own-model API (the embedded
SmolLM2 default, prepared by `router.embedded_model`).

The SDK is synchronous: each answer runs in a worker thread and its items are handed
to the event loop through an `asyncio.Queue`, so other users keep chatting while one
answer streams, and closing the stream cancels the native request.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from router.backends.base import Backend
from router.errors import INVALID_UNICODE, BackendError, BackendUnavailable, BadRequest
from router.types import ChatMessage, Chunk, GenerationParams, Health, StreamEnd, TextDelta, Usage

log = logging.getLogger(__name__)

_APP_NAME = "HybridChat"
_FINISH_REASONS = {0: "stop", 1: "error", 2: "stop", 3: "length", 4: "tool_calls"}
#: The runtime's flErrorCode for a request it cannot take (too long, nothing to answer).
_INVALID_ARGUMENT = 3
_manager_lock = threading.Lock()


def _manager(app_data_dir: Path):
    """The process-wide FoundryLocalManager (the SDK allows exactly one), created on first use."""
    from foundry_local_sdk import Configuration, FoundryLocalManager, LogLevel

    with _manager_lock:
        if FoundryLocalManager.instance is None:
            app_data_dir.mkdir(parents=True, exist_ok=True)
            FoundryLocalManager.initialize(
                Configuration(
                    app_name=_APP_NAME,
                    app_data_dir=str(app_data_dir),
                    logs_dir=str(app_data_dir / "logs"),
                    # Offline, the public catalog retries noisily on stderr; failures are reported by health().
                    log_level=LogLevel.FATAL,
                    disable_nonessential_telemetry=True,
                )
            )
        return FoundryLocalManager.instance


class FoundryLocalBackend(Backend):
    """One Foundry Local model, loaded once and shared by every conversation."""

    kind = "local"

    def __init__(
        self,
        *,
        model: str,
        app_data_dir: Path,
        name: str = "foundry-local",
        max_parallel: int = 4,
    ) -> None:
        """`model` is a catalog alias (e.g. "phi-4-mini") or the path of a local model folder.

        `max_parallel` worker threads generate at once; the router's admission control
        (`router.admission`) lets no more requests in, so none waits here with its timeout running.
        """
        self.name = name
        self._model_ref = model
        self._app_data_dir = app_data_dir
        self._executor = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="foundry-local")
        self._model = None
        self._load_error: str | None = None
        self._load_task: asyncio.Future | None = None

    @property
    def model_name(self) -> str:
        """The name users and the model catalog know this model by."""
        path = Path(self._model_ref)
        return path.name.removesuffix("-int4") if path.is_dir() else self._model_ref

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """Load the model in the background; `health()` reports progress and failures."""
        await self._ensure_loaded()

    def _ensure_loaded(self) -> asyncio.Future:
        if self._load_task is None:
            loop = asyncio.get_running_loop()
            self._load_task = loop.run_in_executor(self._executor, self._load_blocking)
        return self._load_task

    def _load_blocking(self) -> None:
        try:
            manager = _manager(self._app_data_dir)
            path = Path(self._model_ref)
            model = self._register_local(manager, path) if path.is_dir() else self._from_catalog(manager)
            model.load()
            self._model = model
            log.info("Foundry Local model %s loaded", model.id)
        except BackendError as exc:
            self._load_error = exc.message
        except Exception as exc:  # the SDK raises plain exceptions; keep the app up and say why
            log.exception("Foundry Local could not load %s", self.model_name)
            self._load_error = f"the model could not be loaded ({type(exc).__name__}; the server log has the details)"

    def _register_local(self, manager, path: Path):
        """Bring-your-own-model: look the folder up first (registering twice raises), register if needed."""
        from foundry_local_sdk import CatalogType, ModelInfoBuilder

        if not (path / "genai_config.json").is_file():
            raise BackendUnavailable(f"{path.name} is not an ONNX Runtime GenAI model folder (no genai_config.json)")
        catalog = manager.get_catalog(CatalogType.LOCAL)
        model_id = f"{self.model_name}:1"
        model = catalog.get_model_variant(model_id)
        if model is not None and Path(model.get_path()).resolve() != path.resolve():
            # Registrations store absolute paths; a moved data folder needs a fresh one.
            catalog.unregister_model(model_id)
            model = None
        if model is None:
            with ModelInfoBuilder() as metadata:
                metadata.set_string_property("task", "chat-completion")
                metadata.set_string_property("display_name", self.model_name)
                model = catalog.register_model(model_path=str(path), model_id=model_id, metadata=metadata)
        return model

    def _from_catalog(self, manager):
        """A public-catalog alias: find it (about 4 s when offline) and download it once."""
        model = manager.get_catalog().get_model(self._model_ref)
        if model is None:
            raise BackendUnavailable(
                f"'{self._model_ref}' is not in the Foundry Local catalog (is this machine offline?)"
            )
        if not model.is_cached:
            log.info("Downloading %s from the Foundry Local catalog...", self._model_ref)
            last = [-10.0]

            def progress(percent: float) -> None:
                if percent - last[0] >= 10 or percent >= 100:
                    last[0] = percent
                    log.info("Downloading %s: %.0f%%", self._model_ref, percent)

            model.download(progress)
        return model

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- contract ------------------------------------------------------------------

    async def health(self) -> Health:
        if self._model is not None:
            return Health(True, models=(self.model_name,))
        if self._load_error:
            return Health(False, reason=self._load_error)
        return Health(False, reason="the model is still loading")

    async def models(self) -> list[str]:
        return [self.model_name] if self._model is not None else []

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncIterator[Chunk]:
        await self._ensure_loaded()
        if self._model is None:
            raise BackendUnavailable(self._load_error or "the model is not loaded", backend=self.name)

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancelled = threading.Event()
        request_box: list = []

        def emit(item) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def generate() -> None:
            try:
                emit(self._generate_blocking(messages, params, emit, cancelled, request_box))
            except Exception as exc:
                emit(exc)

        worker = loop.run_in_executor(self._executor, generate)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, Exception):
                    failure = classify_failure(item, self.name)
                    level = logging.WARNING if isinstance(failure, BadRequest) else logging.ERROR
                    log.log(level, "%s: %s", self.name, failure.message, exc_info=item)
                    raise failure from None
                yield item
                if isinstance(item, StreamEnd):
                    break
            await worker
        finally:
            if not worker.done():
                cancelled.set()
                if request_box:
                    _cancel_quietly(request_box[0])

    def _generate_blocking(self, messages, params, emit, cancelled: threading.Event, request_box: list) -> StreamEnd:
        """Run one answer on a worker thread, emitting TextDeltas; return the StreamEnd."""
        from foundry_local_sdk import ChatSession, MessageItem, Request, RequestOptions, SearchOptions, TextItem

        search = SearchOptions(
            temperature=params.temperature,
            top_p=params.top_p,
            max_output_tokens=params.max_tokens,
            seed=params.seed,
            do_sample=params.temperature > 0,
        )
        builders = {"system": MessageItem.system, "user": MessageItem.user, "assistant": MessageItem.assistant}
        with ChatSession(self._model) as session, Request() as request:
            session.set_options(RequestOptions(search=search))
            session.set_streaming(True)
            for message in messages:
                request.add_item(builders[message.role](message.content))
            request_box.append(request)
            with session.process_streaming_request(request) as stream:
                for item in stream:
                    if cancelled.is_set():
                        break  # leaving the iterator cancels the native request
                    if isinstance(item, TextItem) and item.text:
                        emit(TextDelta(item.text))
                if cancelled.is_set():
                    return StreamEnd(Usage(), finish_reason="cancelled")
                with stream.final_response as final:
                    usage = final.get_usage()
                    reason = _FINISH_REASONS.get(int(final.finish_reason), "stop")
        return StreamEnd(Usage(usage.prompt_tokens, usage.completion_tokens), finish_reason=reason)


def classify_failure(exc: Exception, backend: str) -> BackendError:
    """The runtime's exception as a router error users may read.

    The runtime's own text (C++ file names, signatures, token counts) stays in the log. A
    request it cannot take is a `BadRequest`, the caller's to fix, which no breaker counts.
    """
    from foundry_local_sdk.exception import FoundryLocalException

    if isinstance(exc, UnicodeEncodeError):
        return BadRequest(INVALID_UNICODE, backend=backend)
    if isinstance(exc, FoundryLocalException) and exc.error_code == _INVALID_ARGUMENT:
        text = str(exc)
        if "maximum context length" in text:
            return BadRequest("the conversation is too long for this model", backend=backend)
        if "nothing to generate from" in text:
            return BadRequest("the request has no text to answer", backend=backend)
        return BadRequest("the model cannot take this request", backend=backend)
    return BackendError("the local model failed (the server log has the details)", backend=backend)


def _cancel_quietly(request) -> None:
    try:
        request.cancel()
    except Exception:  # already finished or closed: nothing left to cancel
        pass
