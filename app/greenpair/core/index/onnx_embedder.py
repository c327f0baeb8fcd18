"""The ONNX embedder: all-MiniLM-L6-v2 through onnxruntime and ``tokenizers``.

Below both ``onnx_export`` (which verifies an export with it) and ``embedder`` (which
chooses one), so neither climbs back to the other.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from greenpair.core.config import physical_cores

MODEL_MAX_TOKENS = 256  # the model's training length

DIM = 384
_BATCH_TOKENS = 4096  # padded tokens per onnxruntime call
# One text per onnxruntime call: measured fastest on CPU (int8/128: 39.6 chunks/s at 1,
# 33.6 at 8, 26.5 at 64; fp32/256: 12.7 vs 9.7), as nothing is padded; and dynamic int8
# quantises activations per call, so batching would make a vector depend on its batch.
_MAX_BATCH = 1


class Embedder(Protocol):
    """Turns texts into unit-length vectors of one vector space named ``name``."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dim), rows L2-normalised."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 through onnxruntime (one session, threads = physical cores)."""

    dim = DIM

    def __init__(
        self,
        model_file: Path,
        tokenizer_file: Path,
        *,
        name: str,
        threads: int = 0,
        max_tokens: int = MODEL_MAX_TOKENS,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # The packaged tokenizer.json pads and truncates to 128; we pad per batch ourselves.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or physical_cores()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # No spin-waiting between ops: idle threads sleep (green, and fair to other work).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()  # one run at a time: threads already use all cores

    def embed(self, texts: Sequence[str], *, batch_tokens: int = _BATCH_TOKENS) -> np.ndarray:
        """Embed ``texts`` (any order; sorted by length internally)."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):
            longest = len(ids[order[start]])
            stop = start
            while stop < len(order) and stop - start < _MAX_BATCH:
                longest = max(longest, len(ids[order[stop]]))
                if (stop - start + 1) * longest > batch_tokens and stop > start:
                    break
                stop += 1
            batch = order[start:stop]
            out[batch] = self._run([ids[i] for i in batch])
            start = stop
        return out

    def _run(self, rows: list[np.ndarray]) -> np.ndarray:
        width = max(len(r) for r in rows)
        input_ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        feeds: dict[str, Any] = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        with self._lock:
            (hidden,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalise(pooled)
