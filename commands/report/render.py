"""The report as chat text and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from bot import i18n
from bot.text import escape_markdown
from commands.report.queries import OrgReport


def percentile(values: list[timedelta], p: float) -> timedelta | None:
    """Nearest-rank percentile (p in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n·p/100), at least 1
    return ordered[int(rank) - 1]


def _hours(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


STATES = ("met", "breached", "running", "best_effort", "extended")


def rows(reports: list[OrgReport]) -> list[dict[str, str]]:
    """One flat row per organisation and target (for CSV and the chat table)."""
    result = []
    for report in reports:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(report.by_kind.items()))
        for target in sorted(report.targets):
            counts = report.targets[target]
            result.append(
                {
                    "org": report.org,
                    "tickets": kinds,
                    "target": target,
                    **{state: str(counts.get(state, 0)) for state in STATES},
                    "first_response_median": _hours(percentile(report.first_response, 50)),
                    "first_response_p90": _hours(percentile(report.first_response, 90)),
                    "resolution_median": _hours(percentile(report.resolution, 50)),
                    "resolution_p90": _hours(percentile(report.resolution, 90)),
                    "acknowledge_median": _hours(percentile(report.acknowledge, 50)),
                    "acknowledge_p90": _hours(percentile(report.acknowledge, 90)),
                }
            )
    return result


def to_csv(reports: list[OrgReport]) -> str:
    """The report as CSV (one row per organisation and target)."""
    out = io.StringIO()
    fields = [
        "org",
        "tickets",
        "target",
        *STATES,
        "first_response_median",
        "first_response_p90",
        "resolution_median",
        "resolution_p90",
        "acknowledge_median",
        "acknowledge_p90",
    ]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(reports))
    return out.getvalue()


def to_markdown(reports: list[OrgReport], *, month: str, lang: str) -> str:
    """The report for chat: a block per organisation (Webex renders no markdown tables)."""
    if not reports:
        return i18n.t("report.none", lang, month=month)
    lines = [i18n.t("report.title", lang, month=month)]
    extended = False
    for report in reports:
        lines += [
            "",
            i18n.t(
                "report.org",
                lang,
                org=escape_markdown(report.org),
                tickets=", ".join(f"{k}: {n}" for k, n in sorted(report.by_kind.items())),
            ),
        ]
        for target in sorted(report.targets):
            counts = report.targets[target]
            # The extended count only where there is one: most targets can never be extended.
            key = "report.target.extended" if counts.get("extended") else "report.target"
            extended = extended or bool(counts.get("extended"))
            lines.append(
                i18n.t(
                    key,
                    lang,
                    target=i18n.t(f"sla.target.{target}", lang),
                    **{state: counts.get(state, 0) for state in STATES},
                )
            )
        lines.append(
            i18n.t(
                "report.times",
                lang,
                **{
                    what: f"{_hours(percentile(values, 50))} / {_hours(percentile(values, 90))}"
                    for what, values in (
                        ("first_response", report.first_response),
                        ("resolution", report.resolution),
                        ("acknowledge", report.acknowledge),
                    )
                },
            )
        )
    lines += ["", i18n.t("report.note", lang)]
    if extended:
        lines.append(i18n.t("report.note.extended", lang))
    return "\n".join(lines)


def csv_file(reports: list[OrgReport], *, month: str) -> dict[str, str]:
    """The report's CSV as a file to attach to a message."""
    return {"name": f"servicedesk-report-{month}.csv", "content_type": "text/csv", "text": to_csv(reports)}
