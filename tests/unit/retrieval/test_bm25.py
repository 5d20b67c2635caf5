"""BM25 sparse encoding: stems match, stopwords vanish, weights saturate."""

from __future__ import annotations

from retrieval_service.core import Bm25Encoder


def test_query_and_document_share_stemmed_terms() -> None:
    bm25 = Bm25Encoder()
    doc = bm25.encode_document("Hotels are capped; the hotel cap applies to travelling staff.")
    query = bm25.encode_query("hotel caps for travel")
    assert set(query.indices) <= set(doc.indices)
    assert query.values == [1.0] * len(query.indices)


def test_stopwords_only_query_is_empty() -> None:
    assert Bm25Encoder().encode_query("what is the of and").indices == []


def test_term_frequency_saturates_and_long_passages_weigh_less() -> None:
    bm25 = Bm25Encoder(avg_len=10)
    once = _weights(bm25, "robot arm")
    many = _weights(bm25, "robot " * 50)
    robot = bm25.encode_query("robot").indices[0]
    assert many[robot] > once[robot]
    assert many[robot] < 1.2 + 1  # bounded by k1 + 1
    padded = _weights(bm25, "robot " + "filler " * 100)
    assert padded[robot] < once[robot]


def _weights(bm25: Bm25Encoder, text: str) -> dict[int, float]:
    vector = bm25.encode_document(text)
    return dict(zip(vector.indices, vector.values, strict=True))


def test_the_stem_memo_changes_no_term() -> None:
    import snowballstemmer

    text = "Running runners ran; the cats' caresses agreed with ponies. " * 3
    bm25 = Bm25Encoder()
    words = ["running", "runners", "ran", "cats", "caresses", "agreed", "ponies"]
    expected = snowballstemmer.stemmer("english").stemWords(words) * 3
    assert bm25.terms(text) == expected
    assert bm25.terms(text) == expected  # served from the memo the second time
