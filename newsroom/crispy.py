"""Layout objects for the site's crispy template pack, ``govuk`` (templates/govuk/).

The pack draws crispy's own objects (fields, ``Fieldset``, ``Div``, inputs); this adds the one
thing crispy's objects cannot say in the site's design: a plain submit button.
"""

from crispy_forms.layout import BaseInput


class SubmitButton(BaseInput):
    """``<button type="submit" class="button">text</button>``, as the site's forms use.

    Unlike crispy's ``Submit`` it needs no name: a button with a name also posts its text,
    which only forms with several buttons need (give ``name`` for those).
    """

    input_type = "submit"
    field_classes = "button"

    def __init__(self, text: str, *, name: str = "", **kwargs):
        super().__init__(name, text, **kwargs)
