"""Errors raised by the model layer, each with a one-line message that says what to do."""


class WinCLIPError(Exception):
    """Base class of winclip-lit model errors."""


class UnsupportedBackboneError(WinCLIPError, ValueError):
    """The requested backbone cannot run WinCLIP (unknown name, or not a class-token ViT)."""


class WeightsUnavailableError(WinCLIPError, RuntimeError):
    """Pretrained weights could not be loaded (offline, not cached, or a bad checkpoint path).

    Attributes:
        reason: What went wrong, without advice (callers with other vocabularies, such as the command's
            config keys, add their own).
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class IncompatibleStateError(WinCLIPError, ValueError):
    """A saved state (text embeddings, reference memory) was built with other image features."""


class ExportError(WinCLIPError, RuntimeError):
    """A model cannot be exported as asked (no category set, a missing optional dependency, a bad path)."""
