"""The patch's check: apply a draft in a scratch copy, run the static check and the
nearest tests in a network namespace within a budget, repair on failure, and say exactly
what ran.

Public API::

    from greenpair.core.assistant.check import CheckOptions, draft_checked, check_changes

``draft_unchecked`` drafts where no check may run, with the same rules for a request that
names tests (read, never edited).
"""

from greenpair.core.assistant.check.checker import CheckOptions, check_changes
from greenpair.core.assistant.check.repair import check_draft, draft_checked, draft_unchecked
from greenpair.core.assistant.check.result import CheckResult, StaticResult

__all__ = ["CheckOptions", "CheckResult", "StaticResult", "check_changes", "check_draft",
           "draft_checked", "draft_unchecked"]
