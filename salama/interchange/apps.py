from django.apps import AppConfig


class InterchangeConfig(AppConfig):
    name = "salama.interchange"
    label = "interchange"
    verbose_name = "Imports and exports"
