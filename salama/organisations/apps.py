from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "salama.organisations"
    label = "organisations"
    verbose_name = "Organisations"
