"""Prompts for answers.

Small models follow a short, strict system prompt and one worked example much better
than long instructions. The example (a few-shot turn) shows the exact citation form,
``[path:start-end]`` copied from a snippet header, and the closing ``Sources:`` line that
also lets generation stop early. The system prompt and example are constant so they stay
in the KV cache across questions.
"""

from __future__ import annotations

from greenpair.core.llm.runtime import Message

ASK_SYSTEM = """\
You are a coding assistant. You answer questions about the user's repository using ONLY \
the code snippets you are given. Each snippet starts with a header `### path:start-end`.
Rules:
- Answer in 1 to 4 short sentences. Name the functions and files involved.
- Cite the snippet lines you used like [path:start-end], copying a header you were given.
- Never invent files or line numbers. If the snippets do not answer the question, say so.
- Finish with one line: Sources: followed by the citations."""

_EXAMPLE_CONTEXT = """\
### lib/mail/send.py:10-18
```python
def send_mail(to, subject, body, retries=3):
    for attempt in range(retries):
        try:
            return smtp_client().send(to, subject, body)
        except TimeoutError:
            time.sleep(2 ** attempt)
    raise MailError(f"could not send to {to}")
```

### lib/mail/client.py:4-7
```python
def smtp_client():
    return SMTP(host=settings.SMTP_HOST, timeout=10)
```
"""

_EXAMPLE_QUESTION = "How many times is sending an email retried?"

_EXAMPLE_ANSWER = """\
`send_mail` tries up to `retries` times (3 by default), waiting 1, 2, then 4 seconds \
after each timeout, and raises `MailError` when every attempt fails \
[lib/mail/send.py:10-18].
Sources: lib/mail/send.py:10-18"""

SOURCES_PREFIX = "Sources:"

NO_CONTEXT = "(No code in the repository matched this question.)"


def context_message(context: str, question: str) -> str:
    """The user turn that carries snippets and the question."""
    body = context.strip() or NO_CONTEXT
    return f"Code snippets:\n\n{body}\n\nQuestion: {question.strip()}"


def followup_message(extra_context: str, question: str) -> str:
    """A follow-up question; new snippets (if any) come with it, after the cached prefix."""
    if extra_context.strip():
        return f"More code snippets:\n\n{extra_context.strip()}\n\nQuestion: {question.strip()}"
    return f"Question: {question.strip()}"


def ask_prefix(*, few_shot: bool = True) -> list[Message]:
    """The constant start of every conversation: system prompt and the worked example."""
    messages = [Message("system", ASK_SYSTEM)]
    if few_shot:
        messages += [
            Message("user", context_message(_EXAMPLE_CONTEXT, _EXAMPLE_QUESTION)),
            Message("assistant", _EXAMPLE_ANSWER),
        ]
    return messages
