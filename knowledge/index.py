"""The dense side: passage vectors in Chroma, embedded by us (Chroma never loads a model of its own).

Embedded `PersistentClient` under the data dir by default, `HttpClient` when a server URL is given.
Queries are unfiltered: role and language preferences are applied afterwards in Python on a wider
candidate list, because Chroma's metadata-filtered query is ~25x slower at 100k vectors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

COLLECTION = "erp_coach_passages"


class VectorStoreError(Exception):
    """Chroma cannot be opened or reached; the message names the directory or URL to check."""


def _settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


class VectorIndex:
    def __init__(self, directory: Path | None = None, url: str = "", collection: str = COLLECTION) -> None:
        import chromadb

        try:
            if url:
                parsed = urlparse(url if "://" in url else f"http://{url}")
                self._client = chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=_settings(),
                )
            else:
                if directory is None:
                    raise VectorStoreError("a Chroma directory or server URL is required")
                directory.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(directory), settings=_settings())
        except VectorStoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - chromadb raises many kinds; name the place to check
            where = url or str(directory)
            raise VectorStoreError(f"cannot open the Chroma store at {where}: {exc}") from None
        self._name = collection
        self._collection = self._open()

    def _open(self):
        return self._client.get_or_create_collection(
            self._name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": 128, "ef_construction": 128}},
        )

    def _do(self, call):
        """Run `call(collection)`; when another process rebuilt the index (`erp-coach ingest --reset`
        deletes and re-creates the collection), this handle points at the deleted one: re-open it by name
        and try once more."""
        from chromadb.errors import NotFoundError

        try:
            return call(self._collection)
        except NotFoundError:
            self._collection = self._open()
            return call(self._collection)

    def count(self) -> int:
        return self._do(lambda c: c.count())

    def close(self) -> None:
        """Let go of the store: an embedded one otherwise keeps its SQLite file and segment files open
        until the process ends (Chroma shares one store per folder and closes it with its last client).
        Idempotent."""
        close = getattr(self._client, "close", None)  # chromadb >= 1.1
        if close is not None:
            close()

    def add(
        self, ids: Sequence[str], embeddings: np.ndarray, metadatas: Sequence[dict] | None = None
    ) -> None:
        if not len(ids):
            return
        step = max(1, min(self._client.get_max_batch_size(), 5000))
        for start in range(0, len(ids), step):
            end = start + step
            self._do(
                lambda c, start=start, end=end: c.upsert(
                    ids=list(ids[start:end]),
                    embeddings=embeddings[start:end],
                    metadatas=list(metadatas[start:end]) if metadatas is not None else None,
                )
            )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        step = 5000
        for start in range(0, len(ids), step):
            self._do(lambda c, part=ids[start : start + step]: c.delete(ids=part))

    def clear(self) -> None:
        with contextlib.suppress(Exception):  # an absent collection is fine
            self._client.delete_collection(self._name)
        self._collection = self._open()

    def query(self, embedding: np.ndarray, k: int) -> tuple[list[str], np.ndarray]:
        """Top-k ids and cosine similarities (higher is better); k must not exceed the stored count."""
        if k <= 0:
            return [], np.zeros(0, dtype=np.float32)
        result = self._do(
            lambda c: c.query(query_embeddings=embedding.reshape(1, -1), n_results=k, include=["distances"])
        )
        ids = result["ids"][0]
        sims = 1.0 - np.asarray(result["distances"][0], dtype=np.float32)
        return ids, sims

    def vectors(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The stored vectors of `ids` (those that exist), fetched by id: no metadata filter involved."""
        out_ids: list[str] = []
        parts: list[np.ndarray] = []
        ids = list(ids)
        step = 5000
        for start in range(0, len(ids), step):
            got = self._do(lambda c, part=ids[start : start + step]: c.get(ids=part, include=["embeddings"]))
            if len(got["ids"]):
                out_ids.extend(got["ids"])
                parts.append(np.asarray(got["embeddings"], dtype=np.float32))
        matrix = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
        return out_ids, matrix
