"""A profile's own terms in the configuration: office hours, maintenance window, change types with
lead times; checked in full when loaded. And the names of closed days in both languages."""

import pytest

from bot import i18n
from bot.config import ConfigError, load_settings
from commands.help.flows import holiday_name
from rules.calendar import CalendarConfigError
from rules.calendar_config import _known_holiday_names
from rules.clock_state import TicketHistory
from tests.harness import local
from tests.shipped import RULES, deadlines, get_calendar, levels, load_levels

CALENDAR = """
[calendars.office]
hours = { mon = "09:00-17:00", tue = "09:00-17:00" }
"""
RFC = """
[profiles.x]
[[profiles.x.rfc]]
target = "resolution"
budget = "5bd"
calendar = "office"
"""


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "levels.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('office_hours = "nowhere"\n', "office_hours names unknown calendar 'nowhere'"),
        ('maintenance_window = "nights"\n', "maintenance_window names unknown calendar 'nights'"),
        ('[[profiles.x.rfc_types]]\nid = "express"\n', "RFC type express: the catalogues do not name it; give title"),
        (
            '[[profiles.x.rfc_types]]\nid = "express"\ntitle = { en = "Express" }\n',
            "title needs a name in each language",
        ),
        (
            '[[profiles.x.rfc_types]]\nid = "standard"\nlead_time = "two days"\n',
            "RFC type standard: duration 'two days' is not understood",
        ),
        (
            '[[profiles.x.rfc_types]]\nid = "standard"\n[[profiles.x.rfc_types]]\nid = "standard"\n',
            "RFC type standard: listed twice",
        ),
        ('[[profiles.x.rfc_types]]\nid = "Big Change"\n', "needs an id of lower-case letters"),
        ('[[profiles.x.rfc_types]]\nid = "standard"\ncalendar = "moon"\n', "unknown calendar 'moon'"),
        ('[[profiles.x.rfc_types]]\nid = "standard"\nwindow = "x"\n', "unknown keys \\['window'\\]"),
        ("rfc_types = []\n", "must list at least one type"),
    ],
)
def test_bad_profile_terms_are_refused_with_the_reason(tmp_path, extra, message):
    # Keys of the profile table itself come before its sub-tables.
    head, _, rest = RFC.partition("[[profiles.x.rfc]]")
    text = CALENDAR + (head + extra + "[[profiles.x.rfc]]" + rest if not extra.startswith("[[") else RFC + extra)
    with pytest.raises(CalendarConfigError, match=message):
        levels(_write(tmp_path, text))


def test_a_lead_time_needs_a_calendar(tmp_path):
    text = (
        CALENDAR + '[profiles.x]\n[[profiles.x.rfc]]\ntarget = "first_response"\nbudget = "2bh"\ncalendar = "office"\n'
        '[[profiles.x.rfc_types]]\nid = "standard"\nlead_time = "1bd"\n'
    )
    with pytest.raises(CalendarConfigError, match="a lead time needs a calendar"):
        levels(_write(tmp_path, text))
    # With its own calendar it is its RFCs' resolution target.
    own = load_levels(_write(tmp_path, text.replace('lead_time = "1bd"', 'lead_time = "1bd"\ncalendar = "office"')))
    rows = deadlines(
        TicketHistory(kind="rfc", opened_at=local(2026, 1, 12, 10), rfc_type="standard"),
        "x",
        now=local(2026, 1, 12, 10),
        rules=own,
    )
    assert [(r.target, r.due) for r in rows] == [
        ("first_response", local(2026, 1, 12, 12)),
        ("resolution", local(2026, 1, 13, 10)),
    ]


def test_bad_profile_terms_stop_start_up_naming_the_variable(tmp_path):
    path = _write(tmp_path, CALENDAR + '[profiles.x]\noffice_hours = "nowhere"\n')
    with pytest.raises(ConfigError, match="SERVICE_LEVELS_FILE: .*office_hours names unknown calendar 'nowhere'"):
        load_settings({"SERVICE_LEVELS_FILE": path}, cwd=tmp_path)


def test_the_shipped_profiles_terms():
    iot, partner, een = (RULES.profile(name) for name in ("iot", "partner", "een"))
    assert (iot.office_hours, partner.office_hours, een.office_hours) == ("iot-office", "partner-office", "24x7")
    assert (iot.maintenance_window, partner.maintenance_window, een.maintenance_window) == (
        None,
        None,
        "een-maintenance",
    )
    assert [t.id for t in iot.rfc_types] == [t.id for t in partner.rfc_types] == ["standard", "non-standard"]
    assert [(t.id, str(t.lead_time)) for t in een.rfc_types] == [
        ("software", "1bd"),
        ("licences", "2bd"),
        ("licences-hardware", "5bd"),
        ("hardware", "5bd"),
    ]
    window = get_calendar("een-maintenance")
    assert [window.is_business_time(local(2026, 3, 29, h, 59)) for h in (0, 6, 7)] == [
        True,
        True,
        False,
    ]  # also on the DST night


def test_an_rfc_of_a_type_without_a_lead_time_or_of_an_unknown_type_keeps_the_rfc_table():
    opened = local(2026, 1, 12, 10)
    for rfc_type in (None, "standard", "software"):
        rows = deadlines(TicketHistory(kind="rfc", opened_at=opened, rfc_type=rfc_type), "iot", now=opened)
        assert rows[-1].due == local(2026, 1, 19, 10), rfc_type
    rows = deadlines(TicketHistory(kind="rfc", opened_at=opened, rfc_type="licences"), "een", now=opened)
    assert [(r.target, r.due) for r in rows] == [("resolution", local(2026, 1, 14, 10))]


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_holiday_a_calendar_can_close_has_a_name_in_each_language(lang):
    for name in _known_holiday_names("NL"):
        key = "holiday." + "".join(c if c.isalnum() else "_" for c in name.lower().replace("'", ""))
        assert key in i18n.keys(lang), name
        assert holiday_name(name, lang) == i18n.t(key, lang)
    assert holiday_name(None, lang) == i18n.t("holiday.closed_date", lang)
    assert holiday_name("Some Future Day", lang) == "Some Future Day"
