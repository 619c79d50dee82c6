from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "salama.accounts"
    label = "accounts"
    verbose_name = "Sign-in and second factor"
