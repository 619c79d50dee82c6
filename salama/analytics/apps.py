from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "salama.analytics"
    label = "analytics"
    verbose_name = "Analytics and reports"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from salama.analytics.signals import incident_changed
        from salama.incidents.models import Incident

        post_save.connect(incident_changed, sender=Incident, dispatch_uid="analytics-refresh")
        post_delete.connect(incident_changed, sender=Incident, dispatch_uid="analytics-refresh-d")
