"""The ``salama`` command: every Django management command, without manage.py.

``salama serve`` is a friendly alias for ``runserver`` that binds to localhost.
"""

import os
import sys

ALIASES = {"serve": "runserver"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salama.settings")
    if len(argv) > 1 and argv[1] in ALIASES:
        argv[1] = ALIASES[argv[1]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["salama", *argv[1:]])


if __name__ == "__main__":
    main()
