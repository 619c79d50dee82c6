from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "salama.risk"
    label = "risk"
    verbose_name = "Security risk management"
