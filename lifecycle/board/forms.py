"""The stage move form (board, product page)."""

from django import forms

from lifecycle.services import GateNotMet, StageMoveRefused
from products.choices import Stage

NOTE_MAX_LENGTH = 2000


class StageMoveForm(forms.Form):
    """Where to move a product and why. The rules (backwards needs a note, gate criteria) are the service's:
    ``add_refusal`` puts its refusal next to the field it is about: a missing note next to the note, any
    other refusal (a stage it is already in, an unmet gate) next to the stage select."""

    to = forms.ChoiceField(label="Move to", choices=Stage.choices)
    note = forms.CharField(
        label="Note",
        required=False,
        strip=True,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when moving back.",
    )
    override_reason = forms.CharField(
        label="Override reason",
        required=False,
        strip=True,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Directors and VPs: why the product moves on with unmet gate criteria.",
    )
    #: The refusal of a forward move for unmet gate criteria, for the template to list them (and offer the
    #: override to those who may give it).
    gate_refusal: GateNotMet | None = None

    def add_refusal(self, refusal: StageMoveRefused) -> None:
        if isinstance(refusal, GateNotMet):
            self.gate_refusal = refusal
        field = "note" if refusal.code == "note_required" else "to"
        self.add_error(field, refusal)
