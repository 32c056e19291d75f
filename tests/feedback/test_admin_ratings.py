import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.admin import RatingAdmin
from feedback.models import Rating, Reason
from tests.factories import ExplainerFactory, TopicFactory, UserFactory
from tests.feedback.rating_factories import RatingFactory, rate

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:feedback_rating_changelist")
ADD = reverse("admin:feedback_rating_add")
EXPORT = reverse("admin:feedback_rating_export")
REPORT = reverse("admin:feedback_rating_report")


def listed(response):
    return list(response.context["cl"].result_list)


def staff_with(*codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_changelist_shows_the_columns(admin_client):
    """Each rating shows its time, explainer, yes/no, reason, comment and version."""
    explainer = ExplainerFactory(headline="Talks resume")
    RatingFactory(
        explainer=explainer,
        useful=False,
        reason=Reason.OUT_OF_DATE,
        comment="The ceasefire ended last week.",
        explainer_version=3,
    )
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    row = response.text.split("<tbody>")[1].split("</tbody>")[0]
    for text in ("Talks resume", ">No<", "It is out of date", "The ceasefire ended", ">3<"):
        assert text in row
    headers = [str(h["text"]) for h in response.context["result_headers"]]
    assert headers[-6:] == [
        "time",
        "explainer",
        "vote",
        "reason",
        "comment",
        "version",
    ]


def test_long_comments_are_truncated(admin_client):
    """A long comment is cut short in the list, with an ellipsis."""
    RatingFactory(useful=False, comment="word " * 100)
    response = admin_client.get(CHANGELIST)
    assert "word " * 100 not in response.text
    assert "…" in response.text


def test_nobody_may_add_change_or_delete_ratings(rf, superuser):
    """Even a superuser may only view ratings: they are the readers' words."""
    request = rf.get("/")
    request.user = superuser
    model_admin = RatingAdmin(Rating, admin_site=None)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


def test_superuser_gets_403_on_add_and_delete(admin_client):
    """The add and delete pages refuse a superuser."""
    rating = RatingFactory()
    assert admin_client.get(ADD).status_code == 403
    delete = reverse("admin:feedback_rating_delete", args=[rating.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Rating.objects.filter(pk=rating.pk).exists()


def test_change_page_is_read_only_even_for_a_superuser(admin_client):
    """The rating's page shows the fields without a form, and a post changes nothing."""
    rating = RatingFactory(useful=True, comment="Clear.")
    url = reverse("admin:feedback_rating_change", args=[rating.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert 'name="comment"' not in response.text and "Clear." in response.text
    assert 'name="_save"' not in response.text
    assert admin_client.post(url, {"useful": "", "comment": "Edited"}).status_code == 403
    rating.refresh_from_db()
    assert rating.comment == "Clear."


def test_no_delete_action(admin_client):
    """The bulk delete action is not offered."""
    RatingFactory()
    response = admin_client.get(CHANGELIST)
    assert "delete_selected" not in response.text


def test_filter_by_vote(admin_client):
    """The vote filter shows only yes or only no votes."""
    yes = RatingFactory(useful=True)
    RatingFactory(useful=False)
    assert listed(admin_client.get(CHANGELIST, {"useful__exact": "1"})) == [yes]


def test_filter_by_reason(admin_client):
    """The reason filter narrows to one reason."""
    RatingFactory(useful=False, reason=Reason.TOO_LONG)
    wrong = RatingFactory(useful=False, reason=Reason.INACCURATE)
    assert listed(admin_client.get(CHANGELIST, {"reason__exact": Reason.INACCURATE})) == [wrong]


def test_filter_by_topic(admin_client):
    """The topic filter narrows to ratings of explainers on that topic."""
    topic = TopicFactory(name="Diplomacy")
    on_topic = RatingFactory(explainer=ExplainerFactory(topic=topic))
    RatingFactory(explainer=ExplainerFactory(topic=TopicFactory()))
    response = admin_client.get(CHANGELIST, {"explainer__topic__id__exact": topic.pk})
    assert listed(response) == [on_topic]
    assert "Diplomacy" in response.text


def test_filter_by_date(admin_client):
    """The date filter and the date hierarchy narrow to when votes were cast."""
    explainer = ExplainerFactory()
    (old,) = rate(explainer, useful=1, days_ago=40)
    (recent,) = rate(explainer, useful=1)
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    since = str(midnight - datetime.timedelta(days=6))
    response = admin_client.get(CHANGELIST, {"created_at__gte": since})
    assert listed(response) == [recent]
    old_day = Rating.objects.get(pk=old.pk).created_at
    old_day = timezone.localtime(old_day)
    hierarchy = {
        "created_at__year": old_day.year,
        "created_at__month": old_day.month,
        "created_at__day": old_day.day,
    }
    assert listed(admin_client.get(CHANGELIST, hierarchy)) == [old]


def test_search_in_comments(admin_client):
    """Search finds words in readers' comments."""
    hit = RatingFactory(useful=False, comment="The map of Geneva is wrong.")
    RatingFactory(useful=False, comment="Too long.")
    assert listed(admin_client.get(CHANGELIST, {"q": "Geneva"})) == [hit]


def test_ratings_link_to_an_explainer_filter(admin_client):
    """The report's "Its ratings" link is a filter the changelist accepts."""
    mine = RatingFactory()
    RatingFactory()
    response = admin_client.get(CHANGELIST, {"explainer__id__exact": mine.explainer_id})
    assert listed(response) == [mine]


def test_changelist_query_count_does_not_grow_with_rows(
    admin_client, django_assert_max_num_queries
):
    """The changelist runs the same few queries for 2 ratings as for 40."""
    topic = TopicFactory()
    for _ in range(2):
        RatingFactory(explainer=ExplainerFactory(topic=topic), comment="Fine.")
    with CaptureQueriesContext(connection) as few:
        admin_client.get(CHANGELIST)
    for _ in range(38):
        RatingFactory(explainer=ExplainerFactory(topic=topic), comment="Fine.")
    with django_assert_max_num_queries(len(few)):
        response = admin_client.get(CHANGELIST)
    assert len(listed(response)) == 40


def test_object_tools_link_to_report_and_export(admin_client):
    """The ratings list links to the feedback report and, for exporters, to the CSV export."""
    html = admin_client.get(CHANGELIST).text
    assert f'href="{REPORT}"' in html and ">Feedback report<" in html
    assert f'href="{EXPORT}"' in html and ">Export CSV<" in html


def test_no_export_link_without_export_permission(client):
    """Staff who may view but not export ratings see no export link or action."""
    client.force_login(staff_with("view_rating"))
    RatingFactory()
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert ">Export CSV<" not in response.text
    assert response.context["action_form"] is None or not [
        c for c in response.context["action_form"].fields["action"].choices if c[0]
    ]


def test_export_action_offered_to_exporters(client):
    """Staff with the export permission are offered the export action."""
    client.force_login(staff_with("view_rating", "export_rating"))
    RatingFactory()
    response = client.get(CHANGELIST)
    actions = [name for name, _ in response.context["action_form"].fields["action"].choices]
    assert "export_selected_ratings" in actions


def test_export_url_refuses_staff_without_export_permission(client):
    """The export address answers 403 to staff who may only view ratings."""
    client.force_login(staff_with("view_rating"))
    assert client.get(EXPORT).status_code == 403


def test_export_url_opens_the_export_form_for_exporters(client):
    """Staff with the export permission reach the export page from the ratings list."""
    client.force_login(staff_with("view_rating", "export_rating"))
    assert client.get(EXPORT).status_code == 200


def test_export_action_downloads_the_selected_ratings(admin_client):
    """The export action answers with a CSV of the selected ratings."""
    chosen = RatingFactory(comment="Chosen one")
    RatingFactory(comment="Left out")
    response = admin_client.post(
        CHANGELIST, {"action": "export_selected_ratings", "_selected_action": [chosen.pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert "Chosen one" in body and "Left out" not in body


def test_export_url_sends_anonymous_users_to_login(client):
    """The export address sends anonymous visitors to the admin login."""
    response = client.get(EXPORT)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
