"""The `gitPoison` settings section, read leniently: a bad value keeps the default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NOTIFY_LEVELS = ("off", "onError", "always")


@dataclass
class Settings:
    code_lens: bool = False
    show_notifications: str = "onError"

    def update(self, raw: Any) -> None:
        """Apply a `gitPoison` object, or an object holding one under "gitPoison"."""
        if not isinstance(raw, dict):
            return
        if isinstance(raw.get("gitPoison"), dict):
            raw = raw["gitPoison"]
        if isinstance(raw.get("codeLens"), bool):
            self.code_lens = raw["codeLens"]
        if raw.get("showNotifications") in NOTIFY_LEVELS:
            self.show_notifications = raw["showNotifications"]

    def shows(self, ok: bool) -> bool:
        """Whether a result with this outcome goes to a visible notification."""
        if self.show_notifications == "always":
            return True
        return self.show_notifications == "onError" and not ok
