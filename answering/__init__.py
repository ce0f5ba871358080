"""Answering: the one pipeline a message goes through, whichever front end it came from.

Owns admission (size, rate), the project's passages, the budget the policy reads, routing,
trimming the conversation for the chosen model, streaming, and recording usage and metrics.
The chat (`chat/`) and the OpenAI-compatible API (`gateway/`) only translate its events.
Chainlit-free, so a notebook or a test can drive it with an in-process backend.
"""

from answering.pipeline import Answer, Asker, ContextTooLong, Pipeline, Prepared, Question

__all__ = ["Answer", "Asker", "ContextTooLong", "Pipeline", "Prepared", "Question"]
