"""The ask path: pack the retrieved code, prompt, stream, check the citations."""
