from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.contrib.admin.widgets import AdminDateWidget, AdminRadioSelect, FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import ngettext

from explainers.models import Explainer, Topic
from newsroom.crispy import SubmitButton

from .export import DATE_FORMAT, KINDS, ExportOptions
from .models import COMMENT_MAX_LENGTH, Reason

INVALID_DATE = "Enter a valid date, written YYYY-MM-DD (e.g. 2026-11-26)."
KIND_LABELS = {
    "ratings": "Every vote, one row each",
    "daily": "Votes per explainer per day (UTC)",
    "summary": "Votes per explainer, with the share found useful",
}


class WrappedFilteredSelectMultiple(FilteredSelectMultiple):
    """The admin's two-box selector, in the wrapper the admin gives it on change forms.

    SelectFilter2.js moves the selector to the front of the select's parent element; without
    a wrapper of its own that parent is the form row, and the selector lands before the label.
    """

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        return format_html('<div class="related-widget-wrapper">{}</div>', html)


class ExplainerSlugsField(forms.ModelMultipleChoiceField):
    """Explainers chosen by slug; every slug that matches none is named in one message."""

    def clean(self, value):
        try:
            return super().clean(value)
        except ValidationError as error:
            if error.code != "invalid_choice":
                raise
            slugs = list(dict.fromkeys(value))
            known = set(self.queryset.filter(slug__in=slugs).values_list("slug", flat=True))
            unknown = [slug for slug in slugs if slug not in known]
            raise ValidationError(
                ngettext(
                    "No explainer has the slug %(slugs)s.",
                    "No explainers have the slugs %(slugs)s.",
                    len(unknown),
                ),
                code="unknown_explainer",
                params={"slugs": ", ".join(repr(slug) for slug in unknown)},
            ) from None


class ExportForm(forms.Form):
    """The options of a CSV export of ratings, for the admin's page and the command alike.

    The one place export options are checked: ``manage.py export_feedback`` fills this form
    from its command line and reports its errors by option name. A valid form's
    ``cleaned_data["options"]`` is the ``ExportOptions`` to export with.

    Rendered only inside the admin, by the admin's own templates: ``FIELDSETS`` are the
    page's fieldsets.
    """

    FIELDSETS = (
        (None, {"fields": ("kind", "bom")}),
        (
            "Filters",
            {
                "fields": ("since", "until", "explainers", "topic"),
                "description": "Leave a filter empty to include everything. Ratings of "
                "explainers unpublished since are included.",
            },
        ),
    )

    kind = forms.ChoiceField(
        label="Rows",
        choices=[(kind, KIND_LABELS[kind]) for kind in KINDS],
        initial="ratings",
        widget=AdminRadioSelect(attrs={"class": "radiolist"}),
    )
    bom = forms.BooleanField(
        label="For Excel",
        required=False,
        help_text="Start the file with a byte-order mark so that Excel reads accents correctly.",
    )
    since = forms.DateField(
        label="From",
        required=False,
        widget=AdminDateWidget,
        input_formats=[DATE_FORMAT],
        error_messages={"invalid": INVALID_DATE},
        help_text="First day included, YYYY-MM-DD, in UTC.",
    )
    until = forms.DateField(
        label="To",
        required=False,
        widget=AdminDateWidget,
        input_formats=[DATE_FORMAT],
        error_messages={"invalid": INVALID_DATE},
        help_text="Last day included, YYYY-MM-DD, in UTC.",
    )
    explainers = ExplainerSlugsField(
        label="Explainers",
        queryset=Explainer.objects.order_by("headline"),
        to_field_name="slug",
        required=False,
        widget=WrappedFilteredSelectMultiple("explainers", is_stacked=False),
    )
    topic = forms.ModelChoiceField(
        label="Topic",
        queryset=Topic.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="All topics",
        error_messages={"invalid_choice": "No topic has the slug %(value)r."},
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error(
                "until",
                ValidationError(
                    "The end date (%(until)s) is before the start date (%(since)s).",
                    code="reversed_range",
                    params={"since": since.isoformat(), "until": until.isoformat()},
                ),
            )
            return cleaned
        topic = cleaned.get("topic")
        cleaned["options"] = ExportOptions(
            since=since,
            until=until,
            explainer_ids=tuple(
                sorted(explainer.pk for explainer in cleaned.get("explainers", ()))
            ),
            topic_id=topic.pk if topic else None,
        )
        return cleaned


class VoteForm(forms.Form):
    """The endpoint's public contract: useful=yes|no, optional reason (for no) and comment.

    Never rendered, only validated, on the hottest path of the site: plain fields checked in
    ``clean_<field>`` cost half as much per vote as ChoiceFields with their choices and widgets.
    """

    VOTES = ("yes", "no")

    useful = forms.Field(
        error_messages={"required": "Missing vote: send useful=yes or useful=no."},
    )
    reason = forms.Field(required=False)
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        error_messages={
            "max_length": "The comment is too long: at most %(limit_value)d characters "
            "(it has %(show_value)d)."
        },
    )

    def clean_useful(self):
        useful = self.cleaned_data["useful"]
        if useful not in self.VOTES:
            raise ValidationError(
                "Unknown vote %(value)s: send useful=yes or useful=no.",
                code="invalid_choice",
                params={"value": useful},
            )
        return useful

    def clean_reason(self):
        reason = self.cleaned_data["reason"] or ""
        if reason and reason not in Reason.values:
            raise ValidationError(
                "Unknown reason %(value)s: use one of %(reasons)s.",
                code="invalid_choice",
                params={"value": reason, "reasons": ", ".join(Reason.values)},
            )
        return reason

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("useful") == "yes" and cleaned.get("reason"):
            raise ValidationError("A reason goes only with useful=no.", code="reason_with_yes")
        return cleaned


class FollowUpForm(VoteForm):
    """The optional follow-up after a vote, as readers see it, drawn by the ``govuk`` pack.

    It checks exactly what ``VoteForm`` checks (the vote endpoint validates with that); this
    adds what showing it needs: a hidden vote, the reasons as radios for a "no", labels, the
    hint and the layout. ``vote`` ("yes" or "no") picks the questions and keeps the ids of
    the two forms a page carries apart; ``action`` is the vote address it posts to.
    """

    COMMENT_LABELS = {"yes": "What did you find useful?", "no": "Tell us more"}
    LAYOUTS = {"yes": ("useful", "comment"), "no": ("useful", "reason", "comment")}

    def __init__(self, data=None, *, vote: str, action: str):
        super().__init__(data, initial={"useful": vote}, auto_id=f"feedback-%s-{vote}")
        self.fields["useful"].widget = forms.HiddenInput()
        reason = self.fields["reason"]
        reason.label = "What was wrong?"
        reason.widget = forms.RadioSelect(choices=Reason.choices)
        comment = self.fields["comment"]
        comment.label = self.COMMENT_LABELS[vote]
        comment.help_text = (
            f"At most {COMMENT_MAX_LENGTH} characters. Please don't include personal details."
        )
        textarea = forms.Textarea(attrs={"rows": 3})
        textarea.attrs.pop("cols")  # the stylesheet sets the width
        textarea.attrs.update(comment.widget_attrs(textarea))  # maxlength
        comment.widget = textarea

        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.form_class = "feedback-followup"
        # feedback.js sends forms marked so in place.
        self.helper.attrs = {"data-feedback-form": True}
        # The page carrying the form is cached and the same for every reader, so it holds no
        # per-reader CSRF token; the vote endpoint checks where posts come from instead.
        self.helper.disable_csrf = True
        self.helper.layout = Layout(*self.LAYOUTS[vote])
        self.helper.add_input(SubmitButton("Send"))
