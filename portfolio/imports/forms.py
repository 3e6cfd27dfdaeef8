"""The CSV upload form of the Import page (docs/imports.md)."""

from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from products.models import ImportKind
from spm.csvfiles.reader import size_label

ACCEPTED_SUFFIXES = {".csv", ".txt"}


class ImportUploadForm(forms.Form):
    """A kind of file the person may import, and the file (size checked here; content by the import)."""

    kind = forms.ChoiceField(
        label="What the file holds", error_messages={"invalid_choice": "Choose what the file holds."}
    )
    file = forms.FileField(
        label="CSV file",
        help_text="The columns of the matching CSV download, UTF-8, comma-separated.",
        error_messages={"required": "Choose a CSV file to upload.", "empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, kinds: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind, ImportKind(kind).label) for kind in kinds]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name or "").suffix.lower() not in ACCEPTED_SUFFIXES:
            raise ValidationError(
                "Choose a .csv file. In your spreadsheet: Save as → “CSV UTF-8 (comma delimited)”."
            )
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise ValidationError(too_big_message(upload.size))
        return upload


def too_big_message(size: int) -> str:
    return (
        f"The file is {size_label(size)}; one import takes at most {size_label(settings.IMPORT_MAX_BYTES)}. "
        "Split it into smaller files."
    )
