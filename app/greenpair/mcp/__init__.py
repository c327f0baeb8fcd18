"""``greenpair mcp``: Greenpair's index and local model as tools for MCP clients.

A client of ``greenpair.core`` like the CLI, the window and ``greenpair serve``: it holds
one ``Services`` (one model, one embedder, one meter, the served repositories), built once
per process, and answers agents over stdio or over streamable HTTP on loopback with the
same bearer token as ``serve``. ``tools`` holds what each tool does (plain functions of
``Services``, testable without a client), ``repomap`` the repository map resource, and
``app`` registers both with the official MCP SDK.
"""
