from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "salama.sharing"
    label = "sharing"
    verbose_name = "Sharing (API keys and the REST API)"
