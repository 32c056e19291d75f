from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.contrib.admin.widgets import AdminDateWidget, AdminRadioSelect, FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from explainers.models import Explainer, Topic

from .export import KINDS, parse_options
from .models import COMMENT_MAX_LENGTH, Reason

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


class ExportForm(forms.Form):
    """The options of a CSV export of ratings; the filters are checked by ``parse_options``.

    ``FIELDSETS`` drives both the crispy layout and the admin page's fieldsets, so the two
    renderings list the same fields in the same order.
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
        help_text="First day included, YYYY-MM-DD, in UTC.",
    )
    until = forms.DateField(
        label="To",
        required=False,
        widget=AdminDateWidget,
        help_text="Last day included, YYYY-MM-DD, in UTC.",
    )
    explainers = forms.ModelMultipleChoiceField(
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
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.layout = Layout(
            *(Fieldset(name or "", *options["fields"]) for name, options in self.FIELDSETS)
        )
        self.helper.add_input(Submit("export", "Export CSV"))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        explainers = cleaned.get("explainers") or ()
        topic = cleaned.get("topic")
        try:
            cleaned["options"] = parse_options(
                since=cleaned.get("since"),
                until=cleaned.get("until"),
                explainers=[explainer.slug for explainer in explainers],
                topic=topic.slug if topic else None,
            )
        except ValidationError as error:
            # Keyed by option name, which is the field's name: each message lands by its field.
            self.add_error(None, error)
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
