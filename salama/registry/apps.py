from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "salama.registry"
    label = "registry"
    verbose_name = "Victims-of-violence registry"

    def ready(self):
        from salama.incidents.signals import incident_submitted
        from salama.registry.services import on_incident_submitted

        incident_submitted.connect(on_incident_submitted, dispatch_uid="registry-propose-cases")
