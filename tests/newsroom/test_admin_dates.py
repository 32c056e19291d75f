"""The admin writes every date one way: "7 Dec 2026 14:05"."""

import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from explainers import services
from explainers.models import Notice
from tests.factories import ExplainerFactory, editor
from tests.feedback.rating_factories import rate

pytestmark = pytest.mark.django_db

# Django's English formats ("Dec. 7, 2026, 2:05 p.m.") and the old list format ("07 Dec 14:05").
OTHER_FORMATS = (
    re.compile(r"\b[A-Z][a-z]{2}\. \d{1,2}, \d{4}"),
    re.compile(r"\d{1,2}:\d{2} [ap]\.m\."),
    re.compile(r"\b\d{2} [A-Z][a-z]{2} \d{2}:\d{2}"),
    re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}"),
)


def test_settings_name_one_date_format():
    """Templates, columns and Django's own fields all get "j M Y H:i" from the formats."""
    moment = timezone.localtime()
    assert date_format(moment, "DATETIME_FORMAT") == moment.strftime("%-d %b %Y %H:%M")
    assert date_format(moment, "SHORT_DATETIME_FORMAT") == moment.strftime("%-d %b %Y %H:%M")
    assert date_format(moment, "DATE_FORMAT") == moment.strftime("%-d %b %Y")


def test_admin_pages_write_dates_one_way(admin_client):
    """Lists, change forms, revisions, notices and the dashboard show no other date format."""
    boss = editor("boss")
    explainer = ExplainerFactory(published=True)
    services.notice_add(explainer=explainer, user=boss, kind=Notice.Kind.CORRECTION, text="Fix.")
    (rating,) = rate(explainer, not_useful=1, reason="out-of-date")
    change = f"/admin/explainers/explainer/{explainer.pk}"
    expected = date_format(timezone.localtime(explainer.published_at), "DATETIME_FORMAT")
    for path in (
        "/admin/",
        "/admin/explainers/explainer/",
        f"{change}/change/",
        f"{change}/revisions/",
        f"{change}/notices/",
        "/admin/explainers/notice/",
        "/admin/feedback/rating/",
        "/admin/audit/auditevent/",
    ):
        html = admin_client.get(path).text
        assert not [p.pattern for p in OTHER_FORMATS if p.search(html)], path
    assert expected in admin_client.get("/admin/explainers/explainer/").text
    voted = date_format(timezone.localtime(rating.created_at), "DATETIME_FORMAT")
    assert f">{voted}</a>" in admin_client.get("/admin/feedback/rating/").text
