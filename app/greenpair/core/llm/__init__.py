"""Model layer: catalog, model store, runtimes (llama.cpp, OpenAI-compatible), prompts."""
