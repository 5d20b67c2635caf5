"""Typed filters and facets through the public API, on the real stack: evaluated and counted in
the index, always within the caller's tenant and access groups, whatever the request says."""

from __future__ import annotations

import grpc
import pytest

from contracts.rpc import assistant_pb2, common_pb2
from platform_stack.documents import push_documents, run, wait_for_indexed

pytestmark = pytest.mark.integration

TEXT = "The {name} travel policy caps hotel stays and sets the meal allowance."
# document id: (metadata, source, access groups)
OURS = {
    "h2021": ({"year": "2021", "department": "hr", "published": "2021-03-01"}, "wiki", []),
    "i2022": (
        {"year": "2022", "department": "it", "published": "2022-06-15T10:00:00Z"},
        "wiki",
        [],
    ),
    "h2023": ({"year": "2023", "department": "hr", "published": "2023-12-31"}, "drive", []),
    "board": ({"year": "2022", "department": "hr"}, "vault", ["board"]),
}
FACETS = ["source", "heading", "metadata.year", "metadata.department"]


def _filter(field: str, **condition: object) -> common_pb2.MetadataFilter:
    return common_pb2.MetadataFilter(field=field, **condition)


def _year_range(gte: float | None = None, lte: float | None = None) -> common_pb2.MetadataFilter:
    return _filter("metadata.year", range=common_pb2.NumberRange(gte=gte, lte=lte))


@pytest.fixture
def corpus(stack, tenant, make_document) -> str:
    """Our tenant's four documents, and another tenant's copies that would match every filter
    and facet we send (same ids, metadata, sources and groups, plus metadata naming us)."""
    other = f"{tenant}x"
    docs = [
        make_document(
            doc_id,
            TEXT.format(name=doc_id),
            metadata=metadata,
            source=source,
            access_groups=groups,
        )
        for doc_id, (metadata, source, groups) in OURS.items()
    ]
    theirs = [
        {**doc, "tenant": other, "metadata": {**doc["metadata"], "tenant": tenant}} for doc in docs
    ]
    theirs.append(
        {
            "tenant": other,
            "id": "theirs",
            "title": "Theirs",
            "text": TEXT.format(name="their"),
            "source": "their-drive",
            "metadata": {"year": "2022", "department": "hr", "tenant": tenant},
        }
    )
    run(push_documents(stack.config.kafka_bootstrap, docs + theirs))
    wanted = {(tenant, d, 0) for d in OURS} | {(other, d["id"], 0) for d in theirs}
    run(wait_for_indexed(stack.config.kafka_bootstrap, wanted))
    return other


def _search(assistant, principal, *typed, **fields) -> assistant_pb2.SearchResponse:
    return assistant.Search(
        assistant_pb2.SearchRequest(
            principal=principal,
            query="travel policy hotel meal allowance",
            top_k=100,
            typed_filters=list(typed),
            **fields,
        ),
        timeout=20,
    )


def _docs(response: assistant_pb2.SearchResponse) -> set[str]:
    return {p.document_id for p in response.passages}


def _facets(response: assistant_pb2.SearchResponse) -> dict[str, dict[str, int]]:
    return {f.field: {v.value: v.count for v in f.values} for f in response.facets}


def test_typed_filters_narrow_search_in_the_index(assistant, principal, corpus) -> None:
    assert _docs(_search(assistant, principal, _year_range(gte=2021.5))) == {"i2022", "h2023"}
    assert _docs(_search(assistant, principal, _year_range(lte=2021))) == {"h2021"}
    assert _docs(
        _search(
            assistant,
            principal,
            _filter("metadata.department", any_of=common_pb2.StringList(values=["it", "hr"])),
            _filter("source", equals="wiki"),
        )
    ) == {"h2021", "i2022"}
    after = common_pb2.DateRange(gte="2022-06-15T11:00:00+02:00")
    assert _docs(
        _search(assistant, principal, _filter("metadata.published", date_range=after))
    ) == {
        "i2022",
        "h2023",
    }
    until = common_pb2.DateRange(lte="2023-12-31")  # a full date: the whole day
    assert _docs(
        _search(assistant, principal, _filter("metadata.published", date_range=until))
    ) == {
        "h2021",
        "i2022",
        "h2023",
    }
    # The old map still means equals, ANDed with the typed ones.
    assert _docs(
        assistant.Search(
            assistant_pb2.SearchRequest(
                principal=principal,
                query="travel policy",
                top_k=100,
                filters={"department": "hr"},
                typed_filters=[_year_range(gte=2022)],
            ),
            timeout=20,
        )
    ) == {"h2023"}


def test_facets_are_counted_within_tenant_groups_and_filters(
    assistant, principal, tenant, corpus
) -> None:
    everyone = _search(assistant, principal, facet_fields=FACETS)
    facets = _facets(everyone)
    assert [f.field for f in everyone.facets] == FACETS
    assert facets["source"] == {"wiki": 2, "drive": 1}
    assert facets["metadata.year"] == {"2021": 1, "2022": 1, "2023": 1}
    assert facets["metadata.department"] == {"hr": 2, "it": 1}
    assert sum(facets["heading"].values()) == 3
    # Values come most frequent first, at most facet_limit of them.
    top = _facets(_search(assistant, principal, facet_fields=["source"], facet_limit=1))
    assert top == {"source": {"wiki": 2}}

    board = common_pb2.Principal(tenant=tenant, user_id="b", groups=["board"])
    assert _facets(_search(assistant, board, facet_fields=["source"]))["source"] == {
        "wiki": 2,
        "drive": 1,
        "vault": 1,
    }
    narrowed = _facets(_search(assistant, principal, _year_range(gte=2022), facet_fields=FACETS))
    assert narrowed["source"] == {"wiki": 1, "drive": 1}
    assert narrowed["metadata.department"] == {"hr": 1, "it": 1}


def test_no_filter_or_facet_request_reaches_another_tenant_or_group(
    assistant, principal, tenant, corpus
) -> None:
    other = corpus
    hostile_maps = [
        {"tenant": other},
        {"tenant": tenant},  # their documents name us in their metadata
        {"access_groups": "board"},
        {"department": "hr"},
    ]
    for filters in hostile_maps:
        response = assistant.Search(
            assistant_pb2.SearchRequest(
                principal=principal,
                query="travel policy",
                top_k=100,
                filters=filters,
                facet_fields=FACETS,
            ),
            timeout=20,
        )
        assert _docs(response) <= {"h2021", "i2022", "h2023"}, filters
        assert "their-drive" not in _facets(response)["source"]
        assert "vault" not in _facets(response)["source"]
        assert all(p.source != "their-drive" for p in response.passages)
    hostile_typed = [
        _filter("metadata.tenant", equals=tenant),
        _filter("metadata.tenant", any_of=common_pb2.StringList(values=[tenant, other])),
        _year_range(gte=0, lte=1e12),
        _filter("source", any_of=common_pb2.StringList(values=["their-drive", "vault"])),
    ]
    for typed in hostile_typed:
        response = _search(assistant, principal, typed, facet_fields=FACETS)
        assert _docs(response) <= {"h2021", "i2022", "h2023"}, typed
        counted = _facets(response)
        assert sum(counted["source"].values()) == len(response.passages), typed
        assert not set(counted["source"]) & {"their-drive", "vault"}
    # Another tenant sees its own four public ones, never ours, under the same requests.
    theirs = _search(
        assistant, common_pb2.Principal(tenant=other), facet_fields=["source", "metadata.year"]
    )
    assert _docs(theirs) == {"h2021", "i2022", "h2023", "theirs"}
    assert _facets(theirs)["source"] == {"wiki": 2, "drive": 1, "their-drive": 1}
    assert all(p.chunk_id for p in theirs.passages)
    ours = {p.chunk_id for p in _search(assistant, principal).passages}
    assert ours.isdisjoint(p.chunk_id for p in theirs.passages)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"typed_filters": [_filter("tenant", equals="x")]}, "typed_filters.0.field"),
        ({"typed_filters": [_filter("access_groups", equals="board")]}, "typed_filters.0.field"),
        ({"typed_filters": [_filter("metadata.year")]}, "typed_filters[0]"),
        (
            {"typed_filters": [_filter("metadata.year", range=common_pb2.NumberRange())]},
            "typed_filters.0",
        ),
        (
            {
                "typed_filters": [
                    _filter("metadata.d", date_range=common_pb2.DateRange(gte="last May"))
                ]
            },
            "typed_filters[0].date_range",
        ),
        ({"typed_filters": [_year_range(gte=1)] * 33}, "typed_filters"),
        ({"facet_fields": ["tenant"]}, "facet_fields"),
        ({"facet_fields": ["access_groups"]}, "facet_fields"),
        ({"facet_fields": ["metadata.colour"]}, "facet_fields"),
        ({"facet_fields": [f"metadata.k{i}" for i in range(9)]}, "facet_fields"),
        ({"facet_fields": ["source"], "facet_limit": 101}, "facet_limit"),
    ],
)
def test_bad_filters_and_facets_are_invalid_argument_naming_the_field(
    assistant, principal, fields, named
) -> None:
    with pytest.raises(grpc.RpcError) as error:
        assistant.Search(
            assistant_pb2.SearchRequest(principal=principal, query="travel", **fields),
            timeout=20,
        )
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert named in error.value.details()


def test_ask_answers_from_the_typed_filtered_passages_only(assistant, principal, corpus) -> None:
    for typed, allowed in (
        (_year_range(lte=2021), {"h2021"}),
        (_year_range(gte=2023), {"h2023"}),
    ):
        answer = assistant.Ask(
            assistant_pb2.AskRequest(
                principal=principal,
                question="What does the travel policy cap?",
                typed_filters=[typed],
                route="documents",
            ),
            timeout=60,
        )
        assert answer.citations, answer.answer
        assert {c.document_id for c in answer.citations} <= allowed
