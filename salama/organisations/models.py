from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from salama.organisations.choices import OrganisationType, Role


class Organisation(models.Model):
    """A UN entity, NGO, Red Cross / Red Crescent body or other organisation using Salama."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    acronym = models.CharField(_("acronym"), max_length=30, unique=True)
    type = models.CharField(_("type"), max_length=20, choices=OrganisationType.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["acronym"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.acronym


class MembershipQuerySet(models.QuerySet):
    def with_role(self, role: str):
        return self.filter(role=role)


class Membership(models.Model):
    """A person's role in an organisation; one row per role held."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="unique_membership_role"
            )
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} @ {self.organisation}"


def organisation_ids(user) -> list[int]:
    """The organisations ``user`` belongs to (any role); empty for anonymous users."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_salama_org_ids", None)
    if cached is None:
        cached = sorted(set(user.memberships.values_list("organisation_id", flat=True)))
        user._salama_org_ids = cached
    return cached


def has_role(user, organisation_id: int, role: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(user=user, organisation_id=organisation_id, role=role).exists()


def organisations_where(user, role: str):
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    return Organisation.objects.filter(memberships__user=user, memberships__role=role).distinct()
