from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salama.organisations.models import Organisation


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """An organisation's key to the REST API (``salama.sharing.keys``).

    A key acts as its own user (``user``, made with it: no password, a member of the
    organisation with the analyst role), so the API reads through the same door as the pages:
    ``visible_to(key.user)`` is what an analyst of the organisation sees. Only a hash of the
    token is stored; the token is shown once, when the key is made.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.organisation.acronym}: {self.name} ({self.prefix})"


class AgreementQuerySet(models.QuerySet):
    def in_force(self, today=None):
        """Accepted, not ended, and within their term on ``today``."""
        today = today or timezone.localdate()
        return self.filter(
            accepted_at__isnull=False, ended_at__isnull=True, starts_on__lte=today
        ).filter(models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=today))

    def received_by(self, organisation_ids):
        return self.filter(recipient_id__in=list(organisation_ids))

    def involving(self, organisation_ids):
        ids = list(organisation_ids)
        return self.filter(models.Q(provider_id__in=ids) | models.Q(recipient_id__in=ids))


class Agreement(models.Model):
    """A sharing agreement under Saving Lives Together: ``provider`` shares its TLP:AMBER
    incidents (past draft) in ``countries`` with the members of ``recipient``, at ``level``,
    from ``starts_on`` to ``ends_on``.

    The provider's organisation admin proposes it; the recipient's accepts or declines it;
    either side may end it at any time (``salama.sharing.agreements``). TLP:AMBER+STRICT and
    TLP:RED incidents are never shared, whatever the agreement; TLP:CLEAR and TLP:GREEN ones
    are seen by every user of the instance already. A full agreement may also share the
    provider's approved TLP:AMBER security risk assessments of areas in ``countries``
    (``assessments``; ``risk.models.AssessmentQuerySet.visible_to``).
    """

    class Level(models.TextChoices):
        FULL = "full", _("Full records")
        REDACTED = "redacted", _("Redacted records")
        AGGREGATE = "aggregate", _("Aggregate figures only")

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposed, awaiting the recipient")
        SCHEDULED = "scheduled", _("Accepted, not yet in force")
        IN_FORCE = "in_force", _("In force")
        EXPIRED = "expired", _("Expired")
        DECLINED = "declined", _("Declined")
        ENDED = "ended", _("Ended")

    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="agreements_given",
        verbose_name=_("shared by"),
    )
    recipient = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="agreements_received",
        verbose_name=_("shared with"),
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    countries = models.JSONField(
        _("countries"), default=list, blank=True, help_text=_("Empty: every country.")
    )
    narratives = models.BooleanField(
        _("narratives shared"),
        default=False,
        help_text=_("Redacted records: include the narrative (it may name people or places)."),
    )
    assessments = models.BooleanField(
        _("security risk assessments shared"),
        default=False,
        help_text=_(
            "Full records: also share the provider's TLP:AMBER security risk assessments "
            "once approved, in the same countries."
        ),
    )
    starts_on = models.DateField(_("in force from"))
    ends_on = models.DateField(_("in force until"), null=True, blank=True)
    purpose = models.TextField(_("purpose"), help_text=_("The need to know it serves."))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    declined = models.BooleanField(default=False)
    end_reason = models.TextField(_("reason"), blank=True)
    # When both sides' admins were told that the term is about to end (``agreements.remind``).
    expiry_notice_sent_on = models.DateField(null=True, blank=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at"]
        verbose_name = _("sharing agreement")
        verbose_name_plural = _("sharing agreements")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(provider=models.F("recipient")),
                name="agreement_between_two_organisations",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="agreement_ends_after_it_starts",
            ),
        ]
        indexes = [models.Index(fields=["recipient", "ended_at"])]

    def __str__(self):
        return f"{self.provider} → {self.recipient} ({self.get_level_display()})"

    def state(self, today=None) -> str:
        today = today or timezone.localdate()
        if self.ended_at:
            return self.State.DECLINED if self.declined else self.State.ENDED
        if not self.accepted_at:
            return self.State.PROPOSED
        if self.ends_on and self.ends_on < today:
            return self.State.EXPIRED
        if self.starts_on > today:
            return self.State.SCHEDULED
        return self.State.IN_FORCE

    def get_state_display(self) -> str:
        return self.State(self.state()).label

    def covers(self, country: str) -> bool:
        return not self.countries or country in self.countries


class ExchangeState(models.Model):
    """How far ``salama exchange pull`` has read one feed of another Salama instance: the last
    change it imported (``since``, the remote's clock), so the next pull asks only for what
    changed after it (``salama.sharing.exchange``).

    A feed is ``incidents`` (what the key may see) or ``shared/<id>`` (a redacted agreement's
    records); ``organisation`` owns the copies here.
    """

    url = models.CharField(_("remote instance"), max_length=300)
    feed = models.CharField(_("feed"), max_length=40)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="exchange_states"
    )
    since = models.DateTimeField(null=True, blank=True)
    merged_since = models.DateTimeField(null=True, blank=True)
    pulled_at = models.DateTimeField(null=True, blank=True)
    last_batch = models.ForeignKey(
        "interchange.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("exchange state")
        verbose_name_plural = _("exchange states")
        constraints = [
            models.UniqueConstraint(
                fields=["url", "feed", "organisation"], name="one_exchange_state_per_feed"
            )
        ]

    def __str__(self):
        return f"{self.url} {self.feed} → {self.organisation}"


class ApiRequestCount(models.Model):
    """Requests made with one key in one minute (``salama.sharing.throttle``): counted in the
    database so that every server process and machine shares the budget."""

    prefix = models.CharField(max_length=16)
    minute = models.BigIntegerField()  # minutes since the epoch
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "minute"], name="one_count_per_key_minute")
        ]
        indexes = [models.Index(fields=["minute"])]

    def __str__(self):
        return f"{self.prefix} @ minute {self.minute}: {self.count}"
