from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "salama.registry"
    label = "registry"
    verbose_name = "Victims-of-violence registry"

    def ready(self):
        from salama.analytics.signals import open_cases_requested
        from salama.incidents.signals import incident_submitted
        from salama.registry.report_hooks import open_cases
        from salama.registry.services import on_incident_submitted

        incident_submitted.connect(on_incident_submitted, dispatch_uid="registry-propose-cases")
        # The annual report's Table G status list (analytics may not import the registry).
        open_cases_requested.connect(open_cases, dispatch_uid="registry-table-g-status")
        # Backups carry the encrypted documents and say which keys the data needs.
        from salama.core.backup import backup_requested, restore_checked
        from salama.registry.backup_hooks import backup_facts, restore_warnings

        backup_requested.connect(backup_facts, dispatch_uid="registry-backup")
        restore_checked.connect(restore_warnings, dispatch_uid="registry-restore")
