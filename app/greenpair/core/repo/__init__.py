"""Reading a repository: which files to index (``walker``), their languages and parsers
(``languages``) and how they are cut into chunks (``chunker``)."""
