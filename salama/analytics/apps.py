from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "salama.analytics"
    label = "analytics"
    verbose_name = "Analytics and reports"
