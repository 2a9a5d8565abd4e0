"""One-line messages from exceptions: the one place that flattens an error's text for the console.

Examples:
    >>> one_line(ValueError("bad\\n  value"))
    'bad value'
    >>> one_line(OSError("x" * 20), limit=10)
    'xxxxxxx...'
"""

from __future__ import annotations


def one_line(error: BaseException | str, limit: int | None = None) -> str:
    """The error's text on one line (whitespace runs collapsed), cut to ``limit`` characters with "...".

    An error without text gives its type's name.
    """
    text = " ".join(str(error).split())
    if not text and isinstance(error, BaseException):
        text = type(error).__name__
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 3, 0)] + "..."
    return text


def error_chain(error: BaseException, depth: int = 8) -> list[BaseException]:
    """``error`` and the errors it was raised from or during (``__cause__``, else ``__context__``), at most
    ``depth`` of them: libraries wrap the error that says what happened (open_clip, Lightning, Hydra)."""
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < depth:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain
