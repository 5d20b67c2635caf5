"""Retrieval datasets built from public sources, one subpackage each, written in the BEIR layout."""

__all__: list[str] = []
