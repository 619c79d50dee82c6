from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "salama.incidents"
    label = "incidents"
    verbose_name = "Incidents"
