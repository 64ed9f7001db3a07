"""The tools' one error for bad input that is not a scenario file's fault."""


class UsageError(Exception):
    """Bad input that is not a scenario file's fault: exit 2 with this message."""
