"""Salama: incident, case and risk information for the safety of humanitarian and UN personnel."""

__version__ = "0.1.0"
