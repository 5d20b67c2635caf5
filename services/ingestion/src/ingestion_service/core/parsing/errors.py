"""Why a document was refused: one exception tree, each with its dead-letter error type.

    DocumentRejected (ValueError)
    ├── UnsupportedDocument  "unsupported_document"  not the format its media type says
    ├── CorruptDocument      "corrupt_document"      the format, but unreadable
    ├── EncryptedDocument    "encrypted_document"    readable only with a password
    └── DocumentTooLarge     "document_too_large"    more text than a document may hold

Parsers raise only these: a library's own exception is mapped at the parser's boundary,
so a bad file is dead-lettered with a reason instead of retried as a handler error.
"""

from __future__ import annotations


class DocumentRejected(ValueError):
    """A document body that can never be parsed; `error_type` names the class of failure."""

    error_type = "document_rejected"


class UnsupportedDocument(DocumentRejected):
    """A body that is not the format its media type says (a legacy .doc sent as DOCX)."""

    error_type = "unsupported_document"


class CorruptDocument(DocumentRejected):
    """A body in the right format that cannot be read: truncated, malformed, undecodable."""

    error_type = "corrupt_document"


class EncryptedDocument(DocumentRejected):
    """A body that opens only with a password."""

    error_type = "encrypted_document"


class DocumentTooLarge(DocumentRejected):
    """A body whose text is over `contracts.events.MAX_DOCUMENT_CHARS`."""

    error_type = "document_too_large"
