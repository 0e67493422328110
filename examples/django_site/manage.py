#!/usr/bin/env python
"""Run the Django example, from the checkout:

    python examples/django_site/manage.py migrate
    python examples/django_site/manage.py runserver    # on port 8000, or $PORT

Django's own tables go to `$DJANGO_DB` (default examples/django_site/django.db),
footfall's events to `$FOOTFALL_DB` (default `sqlite:///./footfall.db`).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    from django.core.management import execute_from_command_line

    argv = sys.argv
    if argv[1:] == ["runserver"]:  # no address given: $PORT, as in the other examples
        argv = [*argv, os.environ.get("PORT", "8000")]
    execute_from_command_line(argv)
