from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "salama.linkage"
    label = "linkage"
    verbose_name = "Record linkage"
