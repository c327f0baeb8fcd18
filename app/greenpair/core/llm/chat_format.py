"""Chat prompts in the model's own format (the GGUF's chat template).

The rendered prompt is deterministic, so two turns that share a system prompt and context
produce token sequences with a common prefix: the llama backend keeps that prefix's KV
cache and only evaluates what is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from greenpair.core.llm.runtime import Message

# Used when a GGUF carries no chat template (ChatML, understood by most small models).
_CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class ChatFormatter:
    """Renders messages with a Jinja chat template, as the model was trained.

    Args:
        template: The ``tokenizer.chat_template`` of the GGUF (None: ChatML).
        bos_token: Text of the model's BOS token.
        eos_token: Text of the model's EOS token.
    """

    def __init__(self, template: str | None, *, bos_token: str = "", eos_token: str = "") -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.template = template or _CHATML
        self._formatter = Jinja2ChatFormatter(
            template=self.template, eos_token=eos_token, bos_token=bos_token
        )

    def render(self, messages: Sequence[Message]) -> str:
        """The prompt text for ``messages``, ending where the assistant's reply starts."""
        payload: list[Any] = [{"role": m.role, "content": m.content} for m in messages]
        return str(self._formatter(messages=payload).prompt)


def fim_prompt(prefix: str, suffix: str, tokens: tuple[str, str, str]) -> str:
    """A prefix-suffix-middle prompt with the model's FIM token texts.

    Args:
        prefix: Code before the cursor.
        suffix: Code after the cursor.
        tokens: Texts of the FIM prefix, suffix and middle tokens (Qwen-coder:
            ``<|fim_prefix|>``, ``<|fim_suffix|>``, ``<|fim_middle|>``).
    """
    pre, suf, mid = tokens
    return f"{pre}{prefix}{suf}{suffix}{mid}"
