"""What the hotline knows about its caller, resolved by the host before the first step.

JSON-able (to_dict / from_dict), so the host looks the caller up once per call, not per webhook.
Dates are ISO dates already in the community's time zone.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReportSummary:
    """One of the caller's own reports, for "status of my report"."""

    number: int
    category: str
    state: str
    assignee_name: str | None = None
    assignee_role: str | None = None
    event_date: str | None = None  # the day the report entered its current state (or was handled)
    rating: int | None = None
    reopened: bool = False
    duplicate_of: int | None = None


@dataclass(frozen=True)
class AssignedReport:
    """An open report assigned to a staff caller, for the "reports assigned to you" menu."""

    number: int
    category: str
    urgent: bool
    state: str
    transcript: str | None = None


@dataclass(frozen=True)
class HotlineContext:
    """What the host knows about this call, resolved before the step (flows do no I/O)."""

    community_name: str
    caller_name: str | None
    caller_has_grid: bool
    emergency_numbers: tuple[str, ...]
    duty_phone: str  # E.164, to dial
    worker_phone: str | None
    latest_report: ReportSummary | None
    buildings: frozenset[str]
    duty_phone_digits: str = ""  # national digits, to read out
    today: str = ""  # ISO date in the community's time zone
    earlier_reports: tuple[ReportSummary, ...] = ()  # the two before the latest, newest first
    caller_is_staff: bool = False  # grid worker, grid leader, community staff or volunteer
    assigned_reports: tuple[AssignedReport, ...] = ()  # open, assigned to the caller, oldest first
    # category -> the open report in the caller's micro-grid filed within the duplicate window
    open_by_category: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, so the host can look the caller up once per call instead of per webhook."""
        data = asdict(self)
        data["buildings"] = sorted(self.buildings)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HotlineContext:
        latest = data.get("latest_report")
        return cls(
            **{
                **data,
                "emergency_numbers": tuple(data["emergency_numbers"]),
                "latest_report": ReportSummary(**latest) if latest else None,
                "buildings": frozenset(data["buildings"]),
                "earlier_reports": tuple(ReportSummary(**r) for r in data.get("earlier_reports", ())),
                "assigned_reports": tuple(AssignedReport(**r) for r in data.get("assigned_reports", ())),
                "open_by_category": {str(k): int(v) for k, v in (data.get("open_by_category") or {}).items()},
            }
        )

    @property
    def recent_reports(self) -> tuple[ReportSummary, ...]:
        """The caller's last three reports, newest first."""
        return ((self.latest_report,) if self.latest_report else ()) + self.earlier_reports[:2]
