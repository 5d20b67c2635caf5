"""Typed filters and facets on a real Qdrant Edge shard: evaluated and counted by the engine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from contracts import Chunk, DocumentEmbedded, EmbeddedChunk
from contracts.events import utc_now
from retrieval_service.adapters import EdgeChunkIndex
from retrieval_service.core import (
    Bm25Encoder,
    Condition,
    FacetRequest,
    Fusion,
    SearchQuery,
    TypedFilter,
    typed_metadata,
)
from retrieval_service.core.filters import as_instant, as_number, date_bound

DIMS = 4
VECTOR = [0.5, 0.5, 0.5, 0.5]

DOCS = {
    # document id: (tenant, groups, metadata, source)
    "a2021": ("acme", [], {"year": "2021", "dept": "hr", "published": "2021-03-01"}, "wiki"),
    "a2022": (
        "acme",
        [],
        {"year": "2022", "dept": "it", "published": "2022-06-15T10:00:00Z"},
        "wiki",
    ),
    "a2023": ("acme", [], {"year": "2023", "dept": "hr", "published": "2023-12-31"}, "drive"),
    "asecret": ("acme", ["board"], {"year": "2022", "dept": "hr"}, "vault"),
    "aodd": ("acme", [], {"year": "n/a", "dept": "it", "published": "soon"}, "drive"),
    # Another tenant with every value acme filters or facets on, and its own.
    "b2022": ("beta", [], {"year": "2022", "dept": "hr", "tenant": "acme"}, "wiki"),
    "b1999": ("beta", [], {"year": "1999", "dept": "legal"}, "beta-only"),
}


def _event(doc_id: str) -> DocumentEmbedded:
    tenant, groups, metadata, source = DOCS[doc_id]
    texts = ["Travel policy and expenses.", "Hotel nights are capped."]
    chunks = [
        EmbeddedChunk.from_chunk(
            Chunk(index=i, text=t, start=0, end=len(t), heading=f"Part {i}"),
            VECTOR,
            content_hash=f"{i:064x}",
        )
        for i, t in enumerate(texts)
    ]
    return DocumentEmbedded(
        tenant=tenant,
        document_id=doc_id,
        operation="upsert",
        version=1,
        submitted_at=utc_now(),
        title=doc_id,
        source=source,
        metadata=metadata,
        access_groups=groups,
        chunks=chunks,
    )


def _filter(field: str, condition: Condition, **values: object) -> TypedFilter:
    return TypedFilter(field=field, condition=condition, **values)


def _query(*typed: TypedFilter, tenant: str = "acme", **fields: object) -> SearchQuery:
    return SearchQuery(
        tenant=tenant, text="travel policy", top_k=100, typed_filters=typed, **fields
    )


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    loop = asyncio.new_event_loop()
    index = EdgeChunkIndex(
        tmp_path_factory.mktemp("edge") / "shard",
        dimensions=DIMS,
        lexical=Bm25Encoder(),
        facet_metadata_keys=("year", "dept", "tenant"),
    )
    loop.run_until_complete(index.ensure_ready())
    for doc_id in DOCS:
        loop.run_until_complete(index.apply(_event(doc_id)))
    yield lambda coro: loop.run_until_complete(coro), index
    loop.run_until_complete(index.close())
    loop.close()


def _docs(run, index, query: SearchQuery) -> set[str]:
    return {
        hit.document_id
        for fusion in (Fusion.RRF, Fusion.DBSF, Fusion.DENSE_ONLY, Fusion.SPARSE_ONLY)
        for hit in run(index.search(query.model_copy(update={"fusion": fusion}), VECTOR))
    }


def test_typed_metadata_reads_numbers_and_rfc3339_dates_only() -> None:
    numbers, dates = typed_metadata(
        {"year": "2022", "price": "-1.5e3", "id": "0" * 40, "x": "nan", "d": "2022-06-15"}
    )
    assert numbers == {"year": 2022.0, "price": -1500.0}
    assert dates == {"d": "2022-06-15T00:00:00.000000Z"}
    assert as_number("1,000") is None and as_number("inf") is None
    assert as_instant("2024-02-30") is None and as_instant("2024-03-01T10:00:00") is None
    assert as_instant("2024-03-01T10:00:00.123456789+02:00") == datetime(
        2024, 3, 1, 8, 0, 0, 123456, tzinfo=UTC
    )
    assert date_bound("2023-12-31", upper=True) == datetime(
        2023, 12, 31, 23, 59, 59, 999999, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"field": "tenant", "condition": "equals", "equals": "beta"}, "pattern"),
        ({"field": "access_groups", "condition": "any_of", "any_of": ["board"]}, "pattern"),
        ({"field": "metadata.a.b", "condition": "equals", "equals": "x"}, "pattern"),
        ({"field": "source", "condition": "range", "gte": 1}, "metadata fields only"),
        ({"field": "metadata.year", "condition": "range"}, "needs gte, lte"),
        ({"field": "metadata.year", "condition": "range", "gte": 3, "lte": 2}, "above"),
        ({"field": "metadata.year", "condition": "any_of", "any_of": []}, "1 to 64"),
        ({"field": "metadata.year", "condition": "any_of", "any_of": ["x"] * 65}, "at most 64"),
        ({"field": "metadata.year", "condition": "range", "gte": float("nan")}, "finite"),
    ],
)
def test_invalid_filters_are_refused(values, message) -> None:
    with pytest.raises(ValidationError, match=message):
        TypedFilter(**values)


def test_bounds_on_counts() -> None:
    many = [_filter(f"metadata.k{i}", Condition.EQUALS, equals="v") for i in range(30)]
    with pytest.raises(ValidationError, match="at most 32 conditions"):
        _query(*many, filters={"a": "1", "b": "2", "c": "3"})
    with pytest.raises(ValidationError):
        FacetRequest(fields=tuple(f"metadata.k{i}" for i in range(9)))
    with pytest.raises(ValidationError):
        FacetRequest(fields=("tenant",))


def test_equals_any_of_and_ranges_are_evaluated_by_the_index(index) -> None:
    run, idx = index
    year = "metadata.year"
    assert _docs(run, idx, _query(_filter(year, Condition.EQUALS, equals="2022"))) == {"a2022"}
    assert _docs(run, idx, _query(_filter(year, Condition.ANY_OF, any_of=("2021", "2023")))) == {
        "a2021",
        "a2023",
    }
    assert _docs(run, idx, _query(_filter("source", Condition.ANY_OF, any_of=("drive",)))) == {
        "a2023",
        "aodd",
    }
    # Numbers, not strings: "n/a" is in no range.
    assert _docs(run, idx, _query(_filter(year, Condition.NUMBER_RANGE, gte=2021.5))) == {
        "a2022",
        "a2023",
    }
    assert _docs(run, idx, _query(_filter(year, Condition.NUMBER_RANGE, lte=2021))) == {"a2021"}
    published = "metadata.published"
    # A date-time with an offset against a full date; a full-date upper bound takes its day.
    after = _filter(
        published, Condition.DATE_RANGE, after=date_bound("2022-06-15T11:00:00+02:00", upper=False)
    )
    assert _docs(run, idx, _query(after)) == {"a2022", "a2023"}
    until = _filter(published, Condition.DATE_RANGE, before=date_bound("2023-12-31", upper=True))
    assert _docs(run, idx, _query(until)) == {"a2021", "a2022", "a2023"}
    before = _filter(
        published, Condition.DATE_RANGE, before=date_bound("2022-06-15T09:59:59Z", upper=True)
    )
    assert _docs(run, idx, _query(before)) == {"a2021"}
    # Conditions AND, with each other and with the old equals map.
    both = _query(_filter(year, Condition.NUMBER_RANGE, gte=2021, lte=2023), filters={"dept": "hr"})
    assert _docs(run, idx, both) == {"a2021", "a2023"}


def test_no_filter_or_facet_reaches_another_tenant_or_group(index) -> None:
    run, idx = index
    # Names of the tenant and group fields are refused as fields; as metadata keys they
    # are only more conditions: beta's document says tenant=acme in its metadata.
    sneaky = _query(filters={"tenant": "acme"})
    assert _docs(run, idx, sneaky) == set()
    assert (
        _docs(run, idx, _query(_filter("metadata.year", Condition.ANY_OF, any_of=("1999",))))
        == set()
    )
    assert "asecret" not in _docs(run, idx, _query())
    assert "asecret" in _docs(run, idx, _query(groups=["board"]))

    everything = FacetRequest(fields=("source", "metadata.year", "metadata.tenant", "title"))
    facets = {f.field: dict(f.values) for f in run(idx.facets(_query(facets=everything)))}
    assert facets["source"] == {"wiki": 4, "drive": 4}
    assert facets["metadata.year"] == {"2021": 2, "2022": 2, "2023": 2, "n/a": 2}
    assert facets["metadata.tenant"] == {}
    assert set(facets["title"]) == {"a2021", "a2022", "a2023", "aodd"}
    board = run(idx.facets(_query(groups=["board"], facets=everything)))
    assert dict(board[0].values) == {"wiki": 4, "drive": 4, "vault": 2}
    beta = run(idx.facets(_query(tenant="beta", facets=everything)))
    assert dict(beta[0].values) == {"wiki": 2, "beta-only": 2}


def test_facets_count_within_the_filters(index) -> None:
    run, idx = index
    query = _query(
        _filter("metadata.year", Condition.NUMBER_RANGE, gte=2022),
        facets=FacetRequest(fields=("metadata.dept", "heading"), limit=1),
    )
    dept, heading = run(idx.facets(query))
    assert dept.field == "metadata.dept" and dept.values in ((("hr", 2),), (("it", 2),))
    assert heading.field == "heading" and len(heading.values) == 1
    assert run(idx.facets(_query())) == []


def test_request_filters_convert_and_name_the_bad_one() -> None:
    from contracts.rpc import common_pb2
    from platform_grpc import InvalidArgument
    from retrieval_service.rpc import typed_filters

    converted = typed_filters(
        [
            common_pb2.MetadataFilter(field="metadata.year", range=common_pb2.NumberRange(lte=3)),
            common_pb2.MetadataFilter(
                field="metadata.d", date_range=common_pb2.DateRange(lte="2024-01-31")
            ),
            common_pb2.MetadataFilter(
                field="source", any_of=common_pb2.StringList(values=["a", "b"])
            ),
        ]
    )
    assert converted[0] == {"field": "metadata.year", "condition": "range", "gte": None, "lte": 3}
    assert converted[1]["before"] == datetime(2024, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert converted[2]["any_of"] == ["a", "b"]
    with pytest.raises(InvalidArgument, match=r"typed_filters\[1\]"):
        typed_filters(
            [common_pb2.MetadataFilter(field="metadata.a", equals="x")] * 1
            + [common_pb2.MetadataFilter(field="metadata.b")]
        )
    with pytest.raises(InvalidArgument, match=r"typed_filters\[0\]\.date_range"):
        typed_filters(
            [
                common_pb2.MetadataFilter(
                    field="metadata.d", date_range=common_pb2.DateRange(gte="May")
                )
            ]
        )


def test_the_qdrant_server_adapter_sends_the_same_conditions_and_facets() -> None:
    """qdrant-client's in-process mode evaluates the server adapter's filter and facet calls."""
    from qdrant_client import AsyncQdrantClient

    from retrieval_service.adapters import QdrantChunkIndex

    async def scenario() -> None:
        index = QdrantChunkIndex(
            AsyncQdrantClient(location=":memory:"),
            collection="chunks",
            dimensions=DIMS,
            lexical=Bm25Encoder(),
            payload_indexes=False,
            facet_metadata_keys=("year",),
        )
        await index.ensure_ready()
        for doc_id in DOCS:
            await index.apply(_event(doc_id))

        async def docs(*typed: TypedFilter) -> set[str]:
            return {h.document_id for h in await index.search(_query(*typed), VECTOR)}

        assert await docs(_filter("metadata.year", Condition.NUMBER_RANGE, gte=2021.5)) == {
            "a2022",
            "a2023",
        }
        after = date_bound("2022-06-15T11:00:00+02:00", upper=False)
        assert await docs(_filter("metadata.published", Condition.DATE_RANGE, after=after)) == {
            "a2022",
            "a2023",
        }
        assert await docs(_filter("source", Condition.ANY_OF, any_of=("drive",))) == {
            "a2023",
            "aodd",
        }
        facets = await index.facets(_query(facets=FacetRequest(fields=("source", "metadata.year"))))
        assert [dict(f.values) for f in facets] == [
            {"wiki": 4, "drive": 4},
            {"2021": 2, "2022": 2, "2023": 2, "n/a": 2},
        ]
        await index.close()

    asyncio.run(scenario())
