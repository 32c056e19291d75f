"""Third attack on the vote endpoint, which is answered before the session and CSRF layers."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_vote_for_an_address_longer_than_any_slug_is_a_404(client):
    """No explainer has a 5,000-character slug: 404, and no cache key is made of it."""
    response = client.post(
        "/explainers/" + "a" * 5000 + "/feedback/",
        {"useful": "yes"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 404
    assert response.json()["ok"] is False
