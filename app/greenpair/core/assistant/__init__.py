"""The assistant jobs: answers with checked citations (``ask``), patch drafts that are
validated, applied and undone (``patch``), and popup suggestions (``suggest``)."""
