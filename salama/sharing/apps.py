from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "salama.sharing"
    label = "sharing"
    verbose_name = "Sharing (agreements, API keys and the REST API)"

    def ready(self):
        from salama.incidents import grants
        from salama.sharing import agreements

        grants.register(agreements.full_grants)
