"""Prompts for patch drafting, one per edit format, each with one worked example.

The example is tiny on purpose: it shows the exact shape of a reply (where the path goes,
the markers, the indentation copied from the code) at a cost of ~150 prompt tokens.
"""

from __future__ import annotations

from greenpair.core.llm.runtime import Message

_SYSTEM = """\
You are a careful coding assistant. You change code in the user's repository.
You get code snippets (each under a header `### path:start-end`) and a task.
Make the smallest change that does the task. Keep the code style and indentation.
Reply with the edit only, in the format below. No explanations."""

_FORMAT_RULES = {
    "search_replace": """\
Format: for each change, the file path on its own line, then a SEARCH/REPLACE block:
path/of/file.py
<<<<<<< SEARCH
the current lines, copied exactly
=======
the new lines
>>>>>>> REPLACE
The SEARCH part must copy existing lines exactly, with their indentation. Keep it short: \
the lines that change and one line around them.""",
    "function": """\
Format: the file path on its own line, then the complete new version of each function or \
class you change in one code block, from its `def` line to its last line, with the \
indentation it has in the file. Do not leave anything out.""",
    "udiff": """\
Format: a unified diff. Start with `--- a/path` and `+++ b/path`, then hunks that begin \
with `@@ ... @@`. Prefix unchanged lines with a space, removed lines with `-` and added \
lines with `+`. Include two unchanged lines around each change.""",
}

_EXAMPLE_CODE = """\
### util/strings.py:3-6
```python
def shout(text):
    \"\"\"Upper-case text.\"\"\"
    return text.upper()
```
"""

_EXAMPLE_TASK = "Make shout add an exclamation mark at the end."

_EXAMPLE_REPLY = {
    "search_replace": """\
util/strings.py
<<<<<<< SEARCH
    return text.upper()
=======
    return text.upper() + "!"
>>>>>>> REPLACE""",
    "function": """\
util/strings.py
```python
def shout(text):
    \"\"\"Upper-case text.\"\"\"
    return text.upper() + "!"
```""",
    "udiff": """\
--- a/util/strings.py
+++ b/util/strings.py
@@ -3,3 +3,3 @@
 def shout(text):
     \"\"\"Upper-case text.\"\"\"
-    return text.upper()
+    return text.upper() + "!\"""",
}

_RETRY_HINT = {
    "search_replace": "Copy the SEARCH lines exactly from the snippets above.",
    "function": "Rewrite the whole function, with the same name, from its first to last line.",
    "udiff": "Copy the unchanged and removed lines exactly from the snippets above.",
}


def task_message(code: str, task: str) -> str:
    """The user turn with the code and the task."""
    return f"Code:\n\n{code.strip()}\n\nTask: {task.strip()}"


def patch_messages(fmt: str, code: str, task: str, *, few_shot: bool = True) -> list[Message]:
    """The messages that ask for an edit in format ``fmt``."""
    messages = [Message("system", _SYSTEM + "\n\n" + _FORMAT_RULES[fmt])]
    if few_shot:
        messages += [
            Message("user", task_message(_EXAMPLE_CODE, _EXAMPLE_TASK)),
            Message("assistant", _EXAMPLE_REPLY[fmt]),
        ]
    messages.append(Message("user", task_message(code, task)))
    return messages


def retry_message(fmt: str, reason: str, task: str) -> str:
    """The user turn that shows the model why its edit failed (and repeats the task, so a
    small model does not fall back to the worked example)."""
    return (
        f"Your edit could not be applied: {reason}\n"
        f"Write the edit again in the same format, for the code above. {_RETRY_HINT[fmt]}\n"
        f"Task: {task.strip()}"
    )
