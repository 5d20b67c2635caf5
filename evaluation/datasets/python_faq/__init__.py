"""python-faq: the Python FAQ's questions against the sections of the Python manual (build.py)."""

__all__: list[str] = []
