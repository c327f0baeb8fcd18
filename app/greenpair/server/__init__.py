"""``greenpair serve``: an OpenAI-compatible HTTP API for editors and teams.

A client of ``greenpair.core`` like the CLI and the window: it holds one model, one
embedder and one meter (``Services``) and answers for several repositories. Every request
needs the bearer token kept in the data directory (``auth``); the queue is bounded
(``admission``); generations run in worker threads and stop when the client goes away
(``bridge``). ``create_app`` builds the ASGI application; ``cli/serve.py`` runs it with
uvicorn on loopback.
"""
