from dataclasses import FrozenInstanceError
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from explainers import services, workflow
from explainers.models import HEADLINE_PLACEHOLDER, Explainer, WorkflowEvent
from tests.explainers.admin_client import png
from tests.factories import ExplainerFactory, UserFactory, editor, writer

pytestmark = pytest.mark.django_db

Status = Explainer.Status


@pytest.fixture
def draft():
    return ExplainerFactory()


@pytest.fixture
def ai_draft():
    return ExplainerFactory(ai_generated=True)


def test_writer_submits_a_draft_for_review(draft):
    """A writer moves a draft to review, and the step is logged with who and the comment."""
    services.explainer_submit(explainer=draft, user=writer(), comment="Ready")
    assert draft.status == Status.IN_REVIEW
    event = WorkflowEvent.objects.get()
    assert (event.action, event.from_status, event.to_status, event.user.username) == (
        "submitted",
        "draft",
        "in_review",
        "writer",
    )
    assert event.comment == "Ready"


def test_writer_cannot_publish(draft):
    """Publishing is refused to a writer, whatever the path."""
    with pytest.raises(PermissionDenied):
        services.explainer_publish(explainer=draft, user=writer())
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


@pytest.mark.parametrize(
    "transition",
    [services.explainer_unpublish, services.explainer_archive],
)
def test_writer_cannot_unpublish_or_archive(transition):
    """Unpublishing and archiving are editors' decisions."""
    explainer = ExplainerFactory(published=True)
    with pytest.raises(PermissionDenied):
        transition(explainer=explainer, user=writer())


def test_writer_cannot_send_back_or_sign_off(draft):
    """Reviewing and signing off are refused to a writer."""
    services.explainer_submit(explainer=draft, user=writer())
    with pytest.raises(PermissionDenied):
        services.explainer_send_back(explainer=draft, user=writer(), comment="No")
    with pytest.raises(PermissionDenied):
        services.explainer_sign_off(explainer=draft, user=writer())


def test_staff_without_a_role_can_do_nothing(draft):
    """Staff outside the Writers and Editors groups cannot move explainers at all."""
    nobody = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        services.explainer_submit(explainer=draft, user=nobody)


def test_editor_sends_back_with_a_required_comment(draft):
    """Sending back needs a comment and returns the explainer to draft."""
    services.explainer_submit(explainer=draft, user=writer())
    with pytest.raises(ValidationError):
        services.explainer_send_back(explainer=draft, user=editor(), comment="  ")
    services.explainer_send_back(explainer=draft, user=editor(), comment="Add sources")
    assert draft.status == Status.DRAFT
    assert draft.events.first().comment == "Add sources"


def test_editor_publishes_from_review(draft):
    """An editor's approval publishes: readers see the text, and it is logged."""
    services.explainer_submit(explainer=draft, user=writer())
    services.explainer_publish(explainer=draft, user=editor())
    assert Explainer.objects.published().get() == draft
    assert draft.live_revision.version == draft.version
    assert draft.events.first().action == "published"


def test_send_back_only_from_review(draft):
    """A draft that is not in review cannot be sent back."""
    with pytest.raises(ValidationError):
        services.explainer_send_back(explainer=draft, user=editor(), comment="x")


def test_archived_cannot_be_published(draft):
    """Archiving is final for the workflow: an archived explainer is not published."""
    services.explainer_archive(explainer=draft, user=editor())
    with pytest.raises(ValidationError):
        services.explainer_publish(explainer=draft, user=editor())


def test_unpublish_takes_it_off_the_site():
    """Unpublishing hides the explainer from readers."""
    explainer = ExplainerFactory(published=True)
    services.explainer_unpublish(explainer=explainer, user=editor())
    assert not Explainer.objects.published().exists()


def test_ai_text_needs_sign_off_before_publishing(ai_draft):
    """AI-generated text is refused publication until an editor signs it off."""
    with pytest.raises(ValidationError) as error:
        services.explainer_publish(explainer=ai_draft, user=editor())
    assert error.value.code == "signoff_required"
    services.explainer_sign_off(explainer=ai_draft, user=editor())
    services.explainer_publish(explainer=ai_draft, user=editor())
    assert ai_draft.is_public and ai_draft.reviewed_by.username == "editor"


def test_a_text_change_voids_the_sign_off(ai_draft):
    """Editing any section after the sign-off voids it, so publishing is refused again."""
    services.explainer_sign_off(explainer=ai_draft, user=editor())
    ai_draft.whats_next = "A changed outlook."
    ai_draft.save()
    assert not ai_draft.is_signed_off
    with pytest.raises(ValidationError):
        services.explainer_publish(explainer=ai_draft, user=editor())


def test_a_new_lead_image_keeps_the_text_sign_off(ai_draft):
    """Adding or changing the lead image is a new version, but the signed-off text stands."""
    services.explainer_sign_off(explainer=ai_draft, user=editor())
    for colour in ("red", "blue"):
        ai_draft.image = png(f"{colour}.png", colour)
        ai_draft.image_alt = f"A {colour} square"
        ai_draft.save()
    ai_draft.refresh_from_db()
    assert ai_draft.version == 3 and ai_draft.is_signed_off
    services.explainer_publish(explainer=ai_draft, user=editor())
    assert ai_draft.is_public


def test_the_headline_is_part_of_the_signed_off_text(ai_draft):
    """A new headline voids the sign-off, as a change to a section does."""
    services.explainer_sign_off(explainer=ai_draft, user=editor())
    ai_draft.headline = "A headline nobody signed off"
    ai_draft.save()
    assert not ai_draft.is_signed_off


def test_a_text_change_with_an_image_change_voids_the_sign_off(ai_draft):
    """Text and image changed in one save: the text changed, so the sign-off is void."""
    services.explainer_sign_off(explainer=ai_draft, user=editor())
    ai_draft.image, ai_draft.image_alt = png(), "A red square"
    ai_draft.whats_next = "A changed outlook."
    ai_draft.save()
    assert not ai_draft.is_signed_off


def test_system_publish_of_ai_text_also_needs_sign_off(ai_draft):
    """Even the system (a command, user=None) cannot publish unreviewed AI text."""
    with pytest.raises(ValidationError):
        services.explainer_publish(explainer=ai_draft, user=None)


def test_scheduled_explainer_appears_at_its_time(draft):
    """A future publication time keeps it hidden until that exact moment, with no job."""
    moment = timezone.now().replace(microsecond=0) + timedelta(days=1)
    services.explainer_publish(explainer=draft, user=editor(), at=moment)
    assert draft.is_scheduled
    assert draft.events.first().action == "scheduled"
    with time_machine.travel(moment - timedelta(seconds=1), tick=False):
        assert not Explainer.objects.published().exists()
    with time_machine.travel(moment, tick=False):
        assert Explainer.objects.published().get() == draft


def test_expiry_hides_it_again(draft):
    """An explainer with an expiry time disappears from readers at that moment."""
    now = timezone.now()
    services.explainer_publish(explainer=draft, user=editor(), expires_at=now + timedelta(hours=2))
    with time_machine.travel(now + timedelta(hours=2), tick=False):
        assert not Explainer.objects.published().exists()


def test_expiry_must_follow_publication(draft):
    """An expiry before the publication time is refused."""
    with pytest.raises(ValidationError):
        services.explainer_publish(
            explainer=draft, user=editor(), expires_at=timezone.now() - timedelta(hours=1)
        )


def test_editing_live_text_waits_for_publication():
    """Changing a published explainer makes a pending version; readers keep the old text."""
    explainer = ExplainerFactory(published=True, whats_next="Old outlook.")
    explainer.whats_next = "New outlook."
    explainer.save()
    live = Explainer.objects.published().select_related("live_revision").get()
    assert live.live_revision.whats_next == "Old outlook."
    assert live.has_pending_changes
    services.explainer_publish(explainer=explainer, user=editor())
    live = Explainer.objects.published().select_related("live_revision").get()
    assert live.live_revision.whats_next == "New outlook." and not live.has_pending_changes


def test_publishing_pending_changes_keeps_first_publication_time():
    """Re-publishing an edited explainer keeps when it was first published."""
    explainer = ExplainerFactory(published=True)
    first = explainer.published_at
    explainer.headline = "Better headline"
    explainer.save()
    services.explainer_publish(explainer=explainer, user=editor())
    assert explainer.published_at == first
    assert explainer.public_updated_at > first


def test_restore_makes_an_old_revision_the_newest_draft():
    """Restoring copies an old revision's text as a new version without rewriting history."""
    explainer = ExplainerFactory(whats_next="First outlook.")
    explainer.whats_next = "Second outlook."
    explainer.save()
    old = explainer.history.filter(version=1).first()
    count = explainer.history.count()
    services.explainer_restore_revision(
        explainer=explainer, user=writer(), history_id=old.history_id
    )
    explainer.refresh_from_db()
    assert explainer.whats_next == "First outlook." and explainer.version == 3
    assert explainer.history.count() == count + 1


def test_bulk_reports_what_it_could_not_do():
    """A bulk transition does what it can and names what the rules refused."""
    plain, ai = ExplainerFactory(), ExplainerFactory(ai_generated=True, headline="Robot text")
    done, problems = services.bulk(
        services.explainer_publish, explainers=[plain, ai], user=editor()
    )
    assert done == 1 and "Robot text" in problems[0]


@pytest.mark.parametrize(
    ("headline", "reason"),
    [
        (HEADLINE_PLACEHOLDER, "no headline yet"),
        ("[headline  NEEDED]", "no headline yet"),
        ("[ Headline\u00a0needed ]\n", "no headline yet"),
        ("  ", "no headline yet"),
        ("Ahead of a meeting at the White House, U.S. special envoy…", "cut-off sentence"),
        ("Leaders agree to meet...", "cut-off sentence"),
    ],
)
def test_publishing_needs_a_complete_headline(headline, reason):
    """A missing, placeholder or cut-off headline is never published, by any path."""
    explainer = ExplainerFactory(headline=headline)
    with pytest.raises(ValidationError, match=reason):
        services.explainer_publish(explainer=explainer, user=editor())
    assert not Explainer.objects.published().exists()
    assert "publish" in [step.name for step, _ in workflow.blocked_steps(explainer, editor())]


@pytest.mark.parametrize(
    "headline", ["2026 budget: what changes", "'Robust guarantees' for Ukraine", "[Live] Talks"]
)
def test_a_headline_that_sorts_before_the_placeholder_is_still_a_headline(headline):
    """Only the placeholder itself blocks publishing, not headlines that start with a digit,
    a quote or a bracket."""
    explainer = ExplainerFactory(headline=headline)
    services.explainer_publish(explainer=explainer, user=editor())
    assert Explainer.objects.published().get().live_revision.headline == headline


def test_changes_to_a_live_headline_need_a_complete_one():
    """A published explainer's edit to a placeholder headline is not published either."""
    explainer = ExplainerFactory(published=True, headline="Leaders agree to meet")
    explainer.headline = HEADLINE_PLACEHOLDER
    explainer.save()
    with pytest.raises(ValidationError, match="no headline yet"):
        services.explainer_publish(explainer=explainer, user=editor())
    assert Explainer.objects.get().live_revision.headline == "Leaders agree to meet"


def test_publish_reads_publish_changes_on_a_live_explainer(draft):
    """The publish button says "Publish changes" once readers have a version; no other does."""
    publish = workflow.STEPS["publish"]
    assert publish.label_for(draft) == "Publish"
    services.explainer_publish(explainer=draft, user=None)
    assert publish.label_for(draft) == "Publish changes"
    others = [step for step in workflow.STEPS.values() if step is not publish]
    assert [step.label_for(draft) for step in others] == [step.label for step in others]
    assert workflow.STEPS["unpublish"].label_for(draft) == "Unpublish"


def test_a_role_without_the_permission_is_told_what_it_may_not_do(draft):
    """The refusal names the step, or says who may take it where the default would mislead."""
    with pytest.raises(PermissionDenied, match=r"^You do not have permission to publish\.$"):
        workflow.check(draft, writer(), "publish")
    with pytest.raises(PermissionDenied, match=r"^Only administrators can hide a notice\.$"):
        workflow.check(draft, editor(), "hide_notice")


def test_the_operator_is_told_a_step_needs_a_named_user(ai_draft):
    """A command may not sign off AI text: that takes a named editor."""
    with pytest.raises(ValidationError) as refused:
        workflow.check(ai_draft, None, "sign_off")
    assert refused.value.code == "user_required"


def test_a_step_from_the_wrong_state_names_the_state(draft):
    """Archiving an archived explainer is refused with the state it is in."""
    services.explainer_archive(explainer=draft, user=None)
    with pytest.raises(ValidationError) as refused:
        workflow.check(draft, editor(), "archive")
    assert refused.value.code == "invalid_transition"
    assert refused.value.messages == ["An explainer that is archived cannot be archived."]


def test_blocked_panel_steps_say_why(draft, ai_draft):
    """The panel lists the steps a condition blocks, with the reason; "nothing new" is no block."""

    def blocked(explainer, user):
        return {step.name: reason for step, reason in workflow.blocked_steps(explainer, user)}

    assert set(blocked(ai_draft, editor())) == {"publish"}
    assert "signed off by an editor" in blocked(ai_draft, editor("second"))["publish"]
    # Text written by people has nothing to sign off: the panel does not mention it.
    assert blocked(draft, editor("third")) == {}
    assert blocked(ai_draft, writer()) == {}
    services.explainer_publish(explainer=draft, user=None)
    assert blocked(draft, editor("fourth")) == {}


def test_the_rule_table_cannot_be_changed_at_run_time():
    """A step is frozen: no request can widen who may take it for the next one."""
    with pytest.raises(FrozenInstanceError):
        workflow.STEPS["publish"].permission = "change_explainer"
