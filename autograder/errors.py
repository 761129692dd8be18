"""The one error type the CLI prints as a message instead of a traceback."""


class UserError(Exception):
    """A mistake in the instructor's input: printed as one clear message, no traceback."""
