"""Chunks are measured in the embedding model's tokens, follow the document's structure and
map back onto its source text."""

from __future__ import annotations

import itertools
import re

import pytest

from contracts import Chunk, MediaType
from contracts.passages import passage_text
from ingestion_service.adapters import ModelTokenizer, packaged_tokenizer_path, sentence_spans
from ingestion_service.core import Chunker, ChunkingPolicy, parse

WINDOW = 256


@pytest.fixture(scope="module")
def tokenizer() -> ModelTokenizer:
    return ModelTokenizer(packaged_tokenizer_path())


def _chunker(tokenizer: ModelTokenizer, **policy: int) -> Chunker:
    return Chunker(ChunkingPolicy(**policy), tokenizer, sentence_spans)


def _window_tokens(tokenizer: ModelTokenizer, title: str, chunk: Chunk) -> int:
    return tokenizer.count([passage_text(title, chunk)])[0] + 2  # [CLS] and [SEP]


def _same_words(a: str, b: str) -> bool:
    return a.split() == b.split()


LONG = " ".join(
    f"Sentence number {i} explains configuration option opt_{i} of the scheduler daemon in "
    f"some detail, including its default value of {i * 7} seconds."
    for i in range(120)
)


def test_long_text_fits_the_window_with_the_title_and_overlaps_by_whole_sentences(tokenizer):
    title = "Scheduler reference manual"
    chunks = _chunker(tokenizer, target_tokens=120, overlap_tokens=40)(
        parse(LONG, MediaType.PLAIN), title=title
    )
    assert len(chunks) > 10
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(_window_tokens(tokenizer, title, c) <= WINDOW for c in chunks)
    assert all(tokenizer.count([c.text])[0] <= 120 for c in chunks)
    # Every sentence is in some chunk, whole.
    joined = "\n".join(c.text for c in chunks)
    assert all(f"opt_{i} " in joined for i in range(120))
    for before, after in itertools.pairwise(chunks):
        # The next chunk begins with whole sentences that ended the one before.
        first_sentence = re.match(r".*?seconds\.", after.text).group(0)
        assert before.text.endswith(first_sentence)
        assert after.text.startswith("Sentence number")


def test_offsets_slice_the_source_to_the_chunk(tokenizer):
    source = "# Guide\n\n## Install\n\nRun   the\ninstaller.  Then reboot.\n\n## Use\n\n" + LONG
    for chunk in _chunker(tokenizer, target_tokens=100, overlap_tokens=20)(
        parse(source, MediaType.MARKDOWN)
    ):
        assert _same_words(source[chunk.start : chunk.end], chunk.text), chunk


def test_chunks_follow_headings_and_never_cross_them(tokenizer):
    chunks = _chunker(tokenizer)(parse("# A\n\nalpha text\n\n# B\n\nbeta text", MediaType.MARKDOWN))
    assert [(c.heading, c.text) for c in chunks] == [("A", "alpha text"), ("B", "beta text")]


def test_paragraphs_are_packed_whole_up_to_the_target(tokenizer):
    paragraphs = [f"Paragraph {i} has a few words about topic {i}." for i in range(6)]
    chunks = _chunker(tokenizer, target_tokens=200, overlap_tokens=0)(
        parse("\n\n".join(paragraphs), MediaType.PLAIN)
    )
    assert len(chunks) == 1
    assert chunks[0].text.split("\n") == paragraphs


def test_a_sentence_longer_than_the_window_is_cut_between_words(tokenizer):
    words = " ".join(f"word{i}" for i in range(600))  # no sentence end at all
    title = "Word list"
    chunks = _chunker(tokenizer, target_tokens=200, overlap_tokens=0)(
        parse(words, MediaType.PLAIN), title=title
    )
    assert len(chunks) > 2
    assert all(_window_tokens(tokenizer, title, c) <= WINDOW for c in chunks)
    assert " ".join(c.text for c in chunks).split() == words.split()


def test_a_long_heading_path_leaves_less_room_but_never_overflows(tokenizer):
    heading = " ".join(["Deeply nested section title"] * 20)
    source = f"# {heading}\n\n{LONG}"
    for chunk in _chunker(tokenizer)(parse(source, MediaType.MARKDOWN), title="T" * 200):
        assert _window_tokens(tokenizer, "T" * 200, chunk) <= WINDOW


def test_an_edit_in_one_section_leaves_every_other_sections_chunks_unchanged(tokenizer):
    sections = {f"Part {i}": LONG[i * 300 : i * 300 + 2500] for i in range(5)}

    def render(edited: str | None) -> list[Chunk]:
        body = "\n\n".join(
            f"## {name}\n\n{text}" + (" An edited sentence." if name == edited else "")
            for name, text in sections.items()
        )
        return _chunker(tokenizer)(parse(body, MediaType.MARKDOWN))

    before = {(c.heading, c.text) for c in render(None)}
    after = {(c.heading, c.text) for c in render("Part 2")}
    changed = after - before
    assert changed and {heading for heading, _ in changed} == {"Part 2"}


def test_policy_rejects_an_overlap_as_large_as_the_target():
    with pytest.raises(ValueError, match="overlap"):
        ChunkingPolicy(target_tokens=50, overlap_tokens=50)
