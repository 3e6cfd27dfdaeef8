"""The stage move form of the board and the product page: one form, one way to move, one way to say it moved."""

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest

from lifecycle.models import StageTransition
from lifecycle.services import GateNotMet, StageMoveRefused, product_move_stage
from products.choices import Stage
from products.models import Product

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

    def move(self, *, product: Product, by: User) -> StageTransition | None:
        """Move ``product`` as the form says: the transition, or ``None`` with the errors (the form's own or the
        service's refusal, ``add_refusal``) on the form."""
        if not self.is_valid():
            return None
        try:
            return product_move_stage(
                product=product,
                to=self.cleaned_data["to"],
                by=by,
                note=self.cleaned_data["note"],
                override_reason=self.cleaned_data["override_reason"],
            )
        except StageMoveRefused as refusal:
            self.add_refusal(refusal)
            return None


def announce_move(request: HttpRequest, transition: StageTransition, product: Product) -> None:
    """Tell the person who moved ``product`` what happened: the move, and a warning when a gate was overridden."""
    from_stage, to_stage = Stage(transition.from_stage), Stage(transition.to_stage)
    messages.success(request, f"Moved {product.name} from {from_stage.label} to {to_stage.label}.")
    if transition.gate_overridden:
        unmet = len(transition.unmet_criteria)
        messages.warning(
            request,
            f"Gate overridden: {unmet} unmet criteri{'on' if unmet == 1 else 'a'} recorded with your reason.",
        )
