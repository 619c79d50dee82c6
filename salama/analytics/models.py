from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from salama.organisations.models import Organisation


class Headcount(models.Model):
    """How many personnel an organisation had in a country in a year: the denominator of the
    rates per 10,000 staff. Entered by the organisation (admin or the headcount form)."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="headcounts",
        verbose_name=_("organisation"),
    )
    country = models.CharField(_("country"), max_length=2)
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(1990), MaxValueValidator(2100)]
    )
    staff = models.PositiveIntegerField(_("personnel"), validators=[MinValueValidator(1)])
    national_staff = models.PositiveIntegerField(
        _("of whom nationally or locally recruited"), null=True, blank=True
    )
    international_staff = models.PositiveIntegerField(
        _("of whom internationally recruited"), null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "country", "-year"]
        verbose_name = _("headcount")
        verbose_name_plural = _("headcounts")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "country", "year"], name="unique_headcount"
            ),
            models.CheckConstraint(condition=Q(staff__gte=1), name="headcount_staff_gte_1"),
        ]

    def __str__(self):
        return f"{self.organisation} {self.country} {self.year}: {self.staff}"

    def clean(self):
        from salama.core.geo import is_country_code

        errors = {}
        if self.country and not is_country_code(self.country):
            errors["country"] = _("Not an ISO 3166 country code.")
        split = (self.national_staff, self.international_staff)
        if all(v is not None for v in split) and sum(split) != self.staff:
            errors["staff"] = _("National and international personnel must add up to the total.")
        elif any(v is not None and v > (self.staff or 0) for v in split):
            errors["staff"] = _("A part cannot be larger than the total.")
        if errors:
            raise ValidationError(errors)
