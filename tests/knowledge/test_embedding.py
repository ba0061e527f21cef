"""Loading the embedding model is quiet: the terminal chat and `erp-coach ask` print only what they say."""

from __future__ import annotations

from knowledge.embedding import Embedder


def test_loading_the_model_prints_no_progress_bar(capsys):
    embedder = Embedder()
    captured = capsys.readouterr()
    assert "Loading weights" not in captured.err + captured.out
    assert embedder.encode(["如何提交报销单？"]).shape == (1, embedder.dimension)
