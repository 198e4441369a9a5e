"""Who did something, and through which interface; every TaskEvent records both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import Interface


@dataclass(frozen=True)
class Actor:
    interface: str
    user: Any = None
    name: str = ""

    @classmethod
    def for_user(cls, user: Any, interface: str) -> Actor:
        return cls(
            interface=interface, user=user if user and user.is_authenticated else None
        )

    @classmethod
    def command(cls, name: str) -> Actor:
        return cls(interface=Interface.COMMAND, name=f"command:{name}")

    @classmethod
    def system(cls, interface: str) -> Actor:
        return cls(interface=interface, name="system")

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return self.name or "system"

    def event_fields(self) -> dict[str, Any]:
        return {
            "actor_user": self.user,
            "actor": self.label,
            "interface": self.interface,
        }
