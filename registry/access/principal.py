"""The authenticated caller as services see it: roles and scopes, no web objects."""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.access.models import ALL_REGIONS
from registry.core.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    """A user or a feed client, with what it may touch."""

    subject: str
    name: str
    roles: frozenset[str]
    regions: frozenset[str] = field(default_factory=frozenset)
    programmes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_client(self) -> bool:
        return self.subject.startswith("client:")

    def has_any(self, *roles: str) -> bool:
        """True if the principal holds at least one of the roles."""
        return bool(self.roles.intersection(roles))

    def require(self, *roles: str) -> None:
        """Refuse unless the principal holds one of the roles."""
        if not self.has_any(*roles):
            raise Forbidden(f"this action needs one of the roles: {', '.join(sorted(roles))}")

    @property
    def all_regions(self) -> bool:
        return ALL_REGIONS in self.regions

    def may_write_programme(self, code: str) -> bool:
        """Feed clients write only the programme they are bound to."""
        return "feed" in self.roles and code in self.programmes
