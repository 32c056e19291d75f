"""Security headers on every page, and templates that need no inline script or style."""

import re
from pathlib import Path

import pytest

from tests.factories import ExplainerFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pages(admin_client):
    """Addresses of every kind of page: reader pages, the admin, errors."""
    explainer = ExplainerFactory(published=True, slug="talks")
    return [
        "/",
        "/corrections/",
        explainer.get_absolute_url(),
        "/no-such-page/",
        "/admin/",
        "/admin/explainers/explainer/",
        f"/admin/explainers/explainer/{explainer.pk}/change/",
        "/admin/feedback/rating/",
        "/admin/feedback/rating/report/",
    ]


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def test_every_page_carries_the_security_headers(admin_client, pages, settings):
    """Each page has the CSP, Permissions-Policy, CORP and the existing security headers."""
    settings.DEBUG = False
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code in (200, 404), url
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert "camera=()" in response["Permissions-Policy"], url
        assert "microphone=()" in response["Permissions-Policy"], url
        assert "geolocation=()" in response["Permissions-Policy"], url
        assert response["Cross-Origin-Resource-Policy"] == "same-origin", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
        assert response["X-Frame-Options"] == "DENY", url


def test_policy_allows_nothing_inline(client):
    """No 'unsafe-inline', 'unsafe-eval' or nonce anywhere in the policy."""
    policy = client.get("/")["Content-Security-Policy"]
    assert "unsafe" not in policy and "nonce-" not in policy


def test_static_files_carry_cross_origin_resource_policy(client):
    """Stylesheets and scripts served by WhiteNoise say same-origin too."""
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_error_pages_carry_the_headers(client, settings):
    """A 400 for a bad Host and the middleware's own 400 carry the CSP as well."""
    settings.DEBUG = False
    for response in (client.get("/", HTTP_HOST="evil.example"), client.get("/?" + "a=1&" * 1100)):
        assert response.status_code == 400
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert response["Cross-Origin-Resource-Policy"] == "same-origin"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", re.I)


@pytest.mark.parametrize(
    "template", sorted(ROOT.joinpath("templates").rglob("*.html")), ids=lambda path: path.name
)
def test_templates_have_no_inline_script_or_style(template):
    """The project's templates hold no inline script, <style>, style= or on…= handler."""
    text = template.read_text()
    assert not INLINE_SCRIPT.findall(text)
    assert not INLINE_STYLE.findall(text)


def test_the_policy_built_once_is_django_csps(client, settings):
    """The header the project's middleware keeps is the one django-csp builds from settings."""
    from csp.utils import build_policy

    settings.DEBUG = False
    assert client.get("/")["Content-Security-Policy"] == build_policy()


def test_a_changed_policy_setting_is_used_at_once(client, settings):
    """Tests and deploys that change the policy get the new one, not the kept one."""
    settings.DEBUG = False
    client.get("/")
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/")["Content-Security-Policy"] == "default-src 'none'"


def test_a_view_with_a_policy_of_its_own_keeps_it(rf, settings):
    """A response asking for its own policy goes through django-csp's whole path."""
    from csp.decorators import csp_update
    from django.http import HttpResponse

    from newsroom.middleware import ContentSecurityPolicyMiddleware

    settings.DEBUG = False

    @csp_update({"img-src": ["https://images.example.org"]})
    def view(request):
        return HttpResponse("ok")

    middleware = ContentSecurityPolicyMiddleware(view)
    request = rf.get("/")
    middleware.process_request(request)
    policy = middleware.process_response(request, view(request))["Content-Security-Policy"]
    assert "img-src 'self' https://images.example.org" in policy
