"""The one way the site and its admin write dates: "7 Dec 2026" and "7 Dec 2026 14:05".

Django's English formats ("Dec. 7, 2026, 2:05 p.m.") win over the DATE_FORMAT settings, so
the project's own are a format module; every date the admin shows, whether Django renders
it or a template or column does, uses these names rather than a pattern of its own.
"""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
