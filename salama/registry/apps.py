from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "salama.registry"
    label = "registry"
    verbose_name = "Victims-of-violence registry"
