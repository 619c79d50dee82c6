from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "salama.analytics"
    label = "analytics"
    verbose_name = "Analytics and reports"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from salama.analytics.signals import import_finished, incident_changed
        from salama.incidents.models import Incident
        from salama.interchange.signals import import_finished as import_finished_signal

        post_save.connect(incident_changed, sender=Incident, dispatch_uid="analytics-refresh")
        post_delete.connect(incident_changed, sender=Incident, dispatch_uid="analytics-refresh-d")
        import_finished_signal.connect(import_finished, dispatch_uid="analytics-refresh-import")

        from salama.analytics.signals import database_restored
        from salama.core.backup import restore_checked

        restore_checked.connect(database_restored, dispatch_uid="analytics-after-restore")

        from django.db.models.signals import post_migrate

        from salama.analytics.signals import migrated

        post_migrate.connect(migrated, sender=self, dispatch_uid="analytics-after-migrate")
