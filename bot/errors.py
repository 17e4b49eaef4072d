"""Domain errors shown to users. No discord import: services raise these."""

from __future__ import annotations


class UserFacingError(Exception):
    """An expected error: its message is shown to the user, ephemerally, as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(UserFacingError):
    pass


class NotFound(UserFacingError):
    pass


class PermissionDenied(UserFacingError):
    pass


class Conflict(UserFacingError):
    """The action clashes with something that just happened (e.g. another moderator's decision)."""
