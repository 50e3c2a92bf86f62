"""User-facing errors: every problem with input is one of these, with a one-line message."""


class AirapError(Exception):
    """A problem the user can fix (bad lyrics, unknown voice, unreadable audio, ...)."""

    code = "bad_input"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class InputError(AirapError):
    code = "bad_input"


class NotFoundError(AirapError):
    code = "not_found"


class SetupError(AirapError):
    """A missing system piece (soundfont, model file) rather than bad input."""

    code = "setup"
