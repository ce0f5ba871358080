"""The admins' "Retrain router" command: complexity weights trained again on the shipped data plus
this deployment's own labels (comparisons and thumbs), written to its data folder.

Training runs `python -m router.training.train_complexity --from-feedback` in a process of its own:
it is CPU-bound for minutes, which would stall every chat on this event loop (and the GIL), and its
output is the progress shown and the figures reported. The app loads the new weights at its next
start (`Settings.complexity_weights`).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time

import chainlit as cl

from chat.services import services
from chat.session import session
from persistence import list_comparisons, list_thumbs
from settings import PROJECT_ROOT
from signin import is_admin

RETRAIN_COMMAND = "Retrain router"
#: Lines of the training's output shown while it runs, and in the report.
SHOWN_LINES = 12
PROGRESS_EVERY_S = 1.0
_running = asyncio.Lock()


async def retrain() -> None:
    """Check the caller is an admin, train in a subprocess with live progress, then report."""
    if not is_admin(session.user):
        await cl.Message(content="Only admins can retrain the router.").send()
        return
    if _running.locked():
        await cl.Message(content="The router is being retrained already; its report will follow there.").send()
        return
    async with _running:
        await _retrain()


async def _retrain() -> None:
    settings = services().settings
    shipped = settings.shipped_router_data
    if not shipped.exists():
        await cl.Message(content=f"The shipped training data is missing ({shipped}): set `SHARED_DATA_DIR`.").send()
        return
    engine = services().engine
    comparisons, thumbs = len(await list_comparisons(engine)), len(await list_thumbs(engine))
    out = settings.retrained_weights_file
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "router.training.train_complexity", "--data", str(shipped), "--from-feedback",
               "--out", str(out), "--cache-dir", str(settings.data_dir / "cache" / "complexity")]
    async with cl.Step(name="Retraining the router", type="tool", show_input=False) as step:
        step.output = (f"Training on {shipped.name} and this deployment's {comparisons} comparisons and "
                       f"{thumbs} thumbs…")
        code, lines = await _run(command, step)
    tail = "\n".join(lines[-SHOWN_LINES:])
    if code != 0:
        failed = f"⚠️ Retraining failed (exit status {code}); the weights did not change."
        await cl.Message(content=f"{failed}\n```\n{tail}\n```").send()
        return
    when = ("at the next start of the app" if settings.complexity_weights_file is None else
            f"once `COMPLEXITY_WEIGHTS_FILE` (now {settings.complexity_weights_file}) points at it, at the next start")
    await cl.Message(content=(
        f"Retrained the router on the shipped data ({shipped.name}) and this deployment's labels: "
        f"{comparisons} comparisons and {thumbs} thumbs.\n```\n{tail}\n```\n"
        f"The new weights are in `{out}`; the app loads them {when}."
    )).send()


async def _run(command: list[str], step: cl.Step) -> tuple[int, list[str]]:
    """Run `command`, showing its latest output lines in `step` (about once a second); (exit status, lines)."""
    process = await asyncio.create_subprocess_exec(
        *command, cwd=PROJECT_ROOT, env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []
    pending = ""
    shown_at = 0.0
    while chunk := await process.stdout.read(4096):
        # Progress bars redraw their line with "\r": each redraw counts as the line's newest state.
        *done, pending = re.split(r"[\r\n]", pending + chunk.decode(errors="replace"))
        lines.extend(line for line in done if line.strip())
        if time.monotonic() - shown_at >= PROGRESS_EVERY_S and lines:
            shown_at = time.monotonic()
            step.output = "```\n" + "\n".join(lines[-SHOWN_LINES:]) + "\n```"
            await step.update()
    if pending.strip():
        lines.append(pending)
    return await process.wait(), lines
