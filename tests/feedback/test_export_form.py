from datetime import date

import pytest

from feedback.export import ExportOptions
from feedback.forms import ExportForm
from tests.factories import ExplainerFactory, TopicFactory

pytestmark = pytest.mark.django_db


def invalid_form(**data) -> ExportForm:
    """The export form bound to ``data`` (kind defaults to ratings), checked to be invalid."""
    form = ExportForm({"kind": "ratings", **data})
    assert not form.is_valid()
    return form


def errors(**data) -> dict[str, list[str]]:
    return invalid_form(**data).errors


def codes(**data) -> dict[str, list[str]]:
    found = invalid_form(**data).errors.as_data()
    return {field: [error.code for error in field_errors] for field, field_errors in found.items()}


def test_valid_form_builds_the_export_options():
    """Dates, explainer slugs and a topic slug become the options the export filters by."""
    topic = TopicFactory(slug="economy")
    first, second = ExplainerFactory(slug="one"), ExplainerFactory(slug="two")
    form = ExportForm(
        {
            "kind": "daily",
            "since": "2026-11-01",
            "until": "2026-11-30",
            "explainers": ["two", "one"],
            "topic": "economy",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["options"] == ExportOptions(
        since=date(2026, 11, 1),
        until=date(2026, 11, 30),
        explainer_ids=tuple(sorted((first.pk, second.pk))),
        topic_id=topic.pk,
    )


def test_empty_filters_export_everything():
    """With no filter the options leave every rating in."""
    form = ExportForm({"kind": "summary"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["options"] == ExportOptions()


def test_reversed_range_is_an_error():
    """until before since is refused with a message on until."""
    assert errors(since="2026-11-20", until="2026-11-19") == {
        "until": ["The end date (2026-11-19) is before the start date (2026-11-20)."]
    }


def test_bad_date_is_an_error():
    """A date not written YYYY-MM-DD is refused, saying how to write it."""
    assert errors(since="yesterday") == {
        "since": ["Enter a valid date, written YYYY-MM-DD (e.g. 2026-11-26)."]
    }


@pytest.mark.parametrize("value", ["20/11/2026", "11/20/2026", "Nov 20 2026", "2026-11-20 10:00"])
def test_only_iso_dates_are_read(value):
    """Only YYYY-MM-DD is a date, so that no other spelling is taken for the wrong day."""
    assert codes(since=value) == {"since": ["invalid"]}


def test_impossible_date_is_an_error():
    """A date that does not exist (30 February) is refused."""
    assert codes(until="2026-02-30") == {"until": ["invalid"]}


def test_unknown_explainer_is_an_error():
    """An explainer slug that matches nothing is refused, naming the slug."""
    ExplainerFactory(slug="known")
    assert errors(explainers=["known", "missing"]) == {
        "explainers": ["No explainer has the slug 'missing'."]
    }


def test_unknown_explainers_are_listed_together():
    """Several unknown slugs are named in one message, in the order given."""
    assert errors(explainers=["gone", "missing", "gone"]) == {
        "explainers": ["No explainers have the slugs 'gone', 'missing'."]
    }


def test_unknown_topic_is_an_error():
    """A topic slug that matches nothing is refused, naming the slug."""
    assert errors(topic="nowhere") == {"topic": ["No topic has the slug 'nowhere'."]}


def test_unknown_kind_is_an_error():
    """A kind other than ratings, daily or summary is refused."""
    assert codes(kind="everything") == {"kind": ["invalid_choice"]}


def test_every_bad_field_is_reported():
    """Each bad option gets its own message, so all can be fixed in one go."""
    assert set(errors(since="soon", explainers=["gone"], topic="nowhere")) == {
        "since",
        "explainers",
        "topic",
    }
