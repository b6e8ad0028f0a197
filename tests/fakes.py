"""Small fakes with observable behaviour for engine unit tests (no mocks)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FakeDetection:
    danger: bool
    urgent: bool
    categories: tuple[str, ...] = ()


class KeywordDetector:
    """Flags texts containing 'passport taken' (danger) or 'locked in' (urgent)."""

    def __init__(self) -> None:
        self.seen = 0

    def detect(self, text: str) -> FakeDetection:
        self.seen += 1
        lowered = text.lower()
        if "locked in" in lowered:
            return FakeDetection(True, True, ("confinement",))
        if "passport taken" in lowered:
            return FakeDetection(True, False, ("documents_taken",))
        return FakeDetection(False, False)


@dataclass(frozen=True)
class FakePhone:
    number: str
    scope: str = "any"


@dataclass(frozen=True)
class FakeEntry:
    id: str
    name: str
    country: str
    phones: tuple[FakePhone, ...]
    languages: tuple[str, ...] = ("en",)
    hours: str = "24/7"
    helps_with: str = ""
    email: str = ""
    url: str = ""


@dataclass(frozen=True)
class FakeHandoff:
    contacts: tuple[FakeEntry, ...]
    language_gap: bool = False

    def phone_for(self, entry: FakeEntry, country: str | None) -> str:
        return entry.phones[0].number


@dataclass
class FakeDirectory:
    asked: list[tuple[str | None, str]] = field(default_factory=list)

    def emergency(self, country: str | None) -> FakeEntry:
        number = "999" if country in ("GB", "IE") else "112"
        return FakeEntry("emergency", "Emergency", country or "", (FakePhone(number),))

    def for_person(self, country: str | None, lang: str) -> FakeHandoff:
        self.asked.append((country, lang))
        line = FakeEntry("line", "Test helpline", country or "LT", (FakePhone("+370 000"),))
        return FakeHandoff((line,), language_gap=lang == "uk")
