"""Forms of the import page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from salama.interchange import formats
from salama.interchange.models import ColumnMapping
from salama.interchange.uploads import importing_organisations


class UploadForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=None, label=_("Import for"))
    format = forms.ChoiceField(label=_("Format"))
    file = forms.FileField(label=_("File (CSV, XLSX or JSON)"))
    sheet = forms.CharField(
        label=_("Sheet (XLSX, if not the first)"), required=False, max_length=100
    )
    mapping = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Saved column mapping (table, kobo, hxl)")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        organisations = importing_organisations(user)
        self.fields["organisation"].queryset = organisations
        self.fields["format"].choices = [
            (name, f"{name}: {(module.__doc__ or name).strip().splitlines()[0]}".replace("``", ""))
            for name, module in formats.registry().items()
        ]
        self.fields["mapping"].queryset = ColumnMapping.objects.filter(
            organisation__in=organisations
        )


class MappingForm(forms.Form):
    mapping = forms.CharField(
        label=_("Column mapping (YAML)"), widget=forms.Textarea(attrs={"rows": 16}), required=False
    )
    name = forms.SlugField(label=_("Save the mapping as"), required=False, max_length=60)
