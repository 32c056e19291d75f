import csv
import io

import pytest
import time_machine
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.test import RequestFactory
from django.urls import reverse

from explainers.models import Explainer
from feedback.export_admin import export_selected_ratings, export_view
from feedback.models import Rating
from tests.factories import ExplainerFactory, TopicFactory, UserFactory
from tests.feedback.factories import RatingFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:feedback_rating_export")
CHANGELIST = reverse("admin:feedback_rating_changelist")
TODAY = "2026-11-26T10:00:00Z"


def read(response) -> list[dict[str, str]]:
    """The streamed CSV, parsed."""
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body, newline="")))


def staff(*permissions: str):
    user = UserFactory(is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def exporter_client(client):
    """A staff member who may view and export ratings, and nothing else."""
    client.force_login(staff("view_rating", "export_rating"))
    return client


@pytest.fixture
def model_admin():
    """A plain ModelAdmin for ratings, independent of how RatingAdmin is configured."""
    return admin.ModelAdmin(Rating, admin.site)


# The export page.


def test_page_renders_for_superuser(admin_client):
    """A superuser sees the export form with every option, in the admin's own styling."""
    response = admin_client.get(EXPORT)
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "admin/feedback/rating/export.html"
    for name in ("kind", "since", "until", "explainers", "topic", "bom"):
        assert f'name="{name}"' in response.text
    assert '<fieldset class="module aligned' in response.text
    assert "Export CSV" in response.text


def test_page_lists_unpublished_explainers(admin_client):
    """The explainer choice includes explainers that are no longer published."""
    ExplainerFactory(status=Explainer.Status.UNPUBLISHED, slug="withdrawn")
    assert 'value="withdrawn"' in admin_client.get(EXPORT).text


@time_machine.travel(TODAY, tick=False)
def test_post_streams_dated_csv(admin_client):
    """A valid POST streams the CSV as an attachment named with the kind and today's date."""
    rating = RatingFactory()
    response = admin_client.post(EXPORT, {"kind": "ratings"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="feedback-ratings-2026-11-26.csv"'
    )
    assert [int(row["id"]) for row in read(response)] == [rating.pk]


def test_post_is_never_cached(admin_client):
    """The download carries never-cache headers."""
    response = admin_client.post(EXPORT, {"kind": "summary"})
    assert "no-cache" in response["Cache-Control"]


def test_post_applies_filters(admin_client):
    """The kind and the filters chosen on the page shape the CSV."""
    topic = TopicFactory(slug="economy")
    wanted = ExplainerFactory(published=True, slug="wanted", topic=topic)
    RatingFactory.create_batch(2, explainer=wanted)
    RatingFactory(explainer=ExplainerFactory(published=True, topic=topic))
    response = admin_client.post(
        EXPORT, {"kind": "summary", "explainers": ["wanted"], "topic": "economy"}
    )
    assert [(row["explainer_slug"], row["votes"]) for row in read(response)] == [("wanted", "2")]


def test_post_with_bom(admin_client):
    """Ticking the Excel option starts the download with a byte-order mark."""
    response = admin_client.post(EXPORT, {"kind": "daily", "bom": "on"})
    assert b"".join(response.streaming_content).startswith(b"\xef\xbb\xbfdate,")


def test_reversed_range_shows_error(admin_client):
    """An end date before the start date redisplays the form with the message (200)."""
    response = admin_client.post(
        EXPORT, {"kind": "ratings", "since": "2026-11-20", "until": "2026-11-01"}
    )
    assert response.status_code == 200
    assert 'class="errornote"' in response.text
    assert "The end date (2026-11-01) is before the start date (2026-11-20)." in response.text


def test_bad_date_shows_error(admin_client):
    """A date that cannot be read redisplays the form with the field's error."""
    response = admin_client.post(EXPORT, {"kind": "ratings", "since": "someday"})
    assert response.status_code == 200
    assert "Enter a valid date, written YYYY-MM-DD (e.g. 2026-11-26)." in response.text


def test_unknown_explainer_shows_error(admin_client):
    """An explainer slug that matches nothing redisplays the form with an error."""
    response = admin_client.post(EXPORT, {"kind": "ratings", "explainers": ["nope"]})
    assert response.status_code == 200
    assert "No explainer has the slug &#x27;nope&#x27;." in response.text


def test_unknown_kind_shows_error(admin_client):
    """A kind outside the choices redisplays the form with an error."""
    response = admin_client.post(EXPORT, {"kind": "everything"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.text


def test_empty_post_shows_error(admin_client):
    """A POST without any option redisplays the form asking for the kind."""
    response = admin_client.post(EXPORT, {})
    assert response.status_code == 200
    assert 'class="errornote"' in response.text
    assert "This field is required." in response.text


def test_staff_with_export_permission_may_export(exporter_client):
    """A staff member with feedback.export_rating gets the page and the file."""
    assert exporter_client.get(EXPORT).status_code == 200
    assert exporter_client.post(EXPORT, {"kind": "ratings"}).status_code == 200


def test_staff_without_export_permission_is_refused(client):
    """A staff member without feedback.export_rating gets 403 on GET and POST."""
    client.force_login(staff("view_rating"))
    assert client.get(EXPORT).status_code == 403
    assert client.post(EXPORT, {"kind": "ratings"}).status_code == 403


def test_view_checks_permission_itself(model_admin):
    """export_view refuses a user without the permission even when called directly."""
    request = RequestFactory().get("/export/")
    request.user = staff("view_rating")
    with pytest.raises(PermissionDenied):
        export_view(model_admin, request)


def test_view_renders_without_rating_admin(model_admin, superuser):
    """export_view renders its page for any ModelAdmin of ratings."""
    request = RequestFactory().get("/export/")
    request.user = superuser
    response = export_view(model_admin, request)
    response.render()
    assert response.status_code == 200
    assert isinstance(response.context_data["adminform"], helpers.AdminForm)


def test_export_query_count_does_not_grow(admin_client, django_assert_max_num_queries):
    """Exporting 50 ratings from the page takes as few queries as exporting 5."""
    RatingFactory.create_batch(50)
    with django_assert_max_num_queries(8):
        response = admin_client.post(EXPORT, {"kind": "ratings"})
        rows = read(response)
    assert len(rows) == 50


# The changelist action.


def test_action_exports_only_selected(admin_client):
    """The action on the changelist streams the selected ratings only."""
    first, _, third = RatingFactory.create_batch(3)
    response = admin_client.post(
        CHANGELIST,
        {
            "action": "export_selected_ratings",
            helpers.ACTION_CHECKBOX_NAME: [str(first.pk), str(third.pk)],
        },
    )
    assert response["Content-Disposition"].startswith('attachment; filename="feedback-ratings-')
    assert [int(row["id"]) for row in read(response)] == [first.pk, third.pk]


def test_action_select_all_exports_filtered_changelist(admin_client):
    """ "Select all" with a search exports every matching rating and nothing else."""
    matching = [RatingFactory(comment=f"100% unclear, part {n}") for n in range(3)]
    RatingFactory(comment="Clear")
    response = admin_client.post(
        f"{CHANGELIST}?q=100%25",
        {
            "action": "export_selected_ratings",
            "select_across": "1",
            helpers.ACTION_CHECKBOX_NAME: [str(matching[0].pk)],
        },
    )
    assert [int(row["id"]) for row in read(response)] == [rating.pk for rating in matching]


def test_action_function_exports_queryset(model_admin, superuser):
    """export_selected_ratings streams exactly the queryset it is given."""
    first, second, _ = RatingFactory.create_batch(3)
    request = RequestFactory().post("/")
    request.user = superuser
    queryset = Rating.objects.filter(pk__in=[second.pk, first.pk])
    response = export_selected_ratings(model_admin, request, queryset)
    assert [int(row["id"]) for row in read(response)] == [first.pk, second.pk]


def test_action_refuses_user_without_permission(model_admin):
    """The action itself refuses a user without feedback.export_rating."""
    request = RequestFactory().post("/")
    request.user = staff("view_rating")
    with pytest.raises(PermissionDenied):
        export_selected_ratings(model_admin, request, Rating.objects.all())


def test_action_hidden_without_export_permission(client):
    """A staff member who may only view ratings is not offered the export action."""
    RatingFactory()
    client.force_login(staff("view_rating"))
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert "export_selected_ratings" not in response.text


def test_action_offered_with_export_permission(exporter_client):
    """A staff member with feedback.export_rating is offered the export action."""
    RatingFactory()
    assert "export_selected_ratings" in exporter_client.get(CHANGELIST).text
