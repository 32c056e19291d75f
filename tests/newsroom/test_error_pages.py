"""The site's own 400, 403, 404 and 500 pages."""

import pytest
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.views import defaults

from explainers import views as explainer_views
from newsroom import views
from tests.factories import ExplainerFactory, UserFactory, analyst

SITE_HEADER = 'class="site-header"'
SITE_FOOTER = "<footer"


@pytest.fixture
def production(settings):
    settings.DEBUG = False


@pytest.mark.django_db
def test_unknown_address_is_the_sites_404(client, production):
    """An unknown address answers 404 with the site's page, header and way back."""
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert SITE_HEADER in response.text
    assert "There is nothing at this address" in response.text
    assert '<meta name="robots" content="noindex">' in response.text


@pytest.mark.django_db
def test_bad_host_is_the_sites_400(client, production):
    """A Host header the site does not serve answers 400 with the site's page."""
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert SITE_HEADER in response.text
    assert "This request could not be read" in response.text


@pytest.mark.django_db
def test_too_many_query_parameters_is_a_400_saying_so(client, settings):
    """An address with more parameters than Django parses is a 400 naming the problem."""
    settings.DEBUG = True
    response = client.get("/?" + "a=1&" * 1100)
    assert response.status_code == 400
    assert SITE_HEADER in response.text
    assert "The address has too many parameters." in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_non_utf8_form_anywhere_is_a_400_saying_so(settings, debug):
    """A latin-1 form posted to the admin's login is the site's 400 with a message, not a 500."""
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    response = client.post(
        "/admin/login/",
        "username=caf%E9",
        content_type="application/x-www-form-urlencoded; charset=latin-1",
        HTTP_COOKIE="csrftoken=" + "a" * 32,
    )
    assert response.status_code == 400
    assert "Forms must be sent as UTF-8, not latin-1." in response.text
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_content_length_that_is_not_a_number_is_a_400(settings):
    """A Content-Length that is not a number (runserver passes it on) is a 400, not a 500."""
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    response = client.post(
        "/admin/login/",
        "username=admin",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="twelve",
        HTTP_COOKIE="csrftoken=" + "a" * 32,
    )
    assert response.status_code == 400
    assert "The Content-Length header is not a whole number." in response.text


@pytest.mark.django_db
def test_forbidden_admin_page_is_the_admins_403(client, production):
    """Staff refused an admin page get a 403 inside the admin, saying what they may not do."""
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/admin/explainers/explainer/add/")
    assert response.status_code == 403
    assert SITE_HEADER not in response.text
    assert 'id="site-name"' in response.text and 'class="breadcrumbs"' in response.text
    assert "may not add explainers" in response.text
    assert 'href="/admin/"' in response.text
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_admin_403_names_the_role_and_links_back_to_the_object(client, production):
    """An analyst refused a change page is told their role lacks it and led back to the object."""
    explainer = ExplainerFactory(headline="Talks in Geneva")
    client.force_login(analyst())
    response = client.get(f"/admin/explainers/explainer/{explainer.pk}/delete/")
    assert response.status_code == 403
    assert "Your account (Analysts) may not delete explainers." in response.text
    assert f'href="/admin/explainers/explainer/{explainer.pk}/change/"' in response.text
    assert 'href="/admin/explainers/explainer/"' in response.text


@pytest.mark.django_db
def test_public_403_stays_the_sites_page(production):
    """Outside the admin a 403 is still the public site's page."""
    request = RequestFactory().get("/preview/nope/")
    request.resolver_match = None
    request.user = UserFactory(is_staff=True)
    response = views.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert SITE_HEADER in response.content.decode()


@pytest.mark.django_db
def test_form_without_csrf_token_is_the_sites_403(production):
    """A form posted without its CSRF token is refused with the site's page, saying what to do."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "admin", "password": "x"})
    assert response.status_code == 403
    assert SITE_HEADER in response.text
    assert "reload the page, and send the form again" in response.text
    assert "Reason given by Django" not in response.text


def test_500_page_needs_neither_database_nor_request_context():
    """The 500 page renders with the database out of reach (no db mark) and no context."""
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert SITE_HEADER in response.content.decode()
    assert "Something went wrong on our side" in response.content.decode()


@pytest.mark.django_db
def test_a_failing_page_shows_the_sites_500(production, monkeypatch):
    """An error inside a page answers 500 with the site's page."""

    def broken(self):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(explainer_views.CorrectionListView, "get_queryset", broken)
    client = Client(raise_request_exception=False)
    response = client.get("/corrections/")
    assert response.status_code == 500
    assert SITE_HEADER in response.text
    assert "broken on purpose" not in response.text


@pytest.mark.parametrize("name", ["400.html", "403.html", "403_csrf.html", "404.html", "500.html"])
def test_an_error_page_without_a_request_keeps_the_site_header_and_footer(name):
    """render_to_string of an error page, no request, no database: header and footer stay."""
    html = render_to_string(name, {"reason": "x", "message": "<b>m</b>"})
    assert SITE_HEADER in html and SITE_FOOTER in html
    assert "<b>m</b>" not in html
    assert html == render_to_string(name, {"reason": "x", "message": "<b>m</b>"}, using="django")


@pytest.mark.parametrize("name", ["400.html", "404.html", "500.html"])
def test_the_jinja2_engine_never_serves_an_error_page(name):
    """Error pages are Django's: the Jinja2 engine's second folder (templates/) holds them too,
    but Django's engine is asked first, so they are never parsed as Jinja2."""
    from django.template.loader import get_template

    assert get_template(name).backend.name == "django"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/explainers/%ff/", "/explainers/a%00b/", "/explainers/" + "x" * 2000 + "/"]
)
def test_odd_addresses_are_the_sites_404_with_header(client, settings, path):
    """Odd bytes in an explainer address are the site's 404 page, not a 500."""
    settings.DEBUG = False
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert SITE_HEADER in response.text
