"""The WSGI entry point: ``gunicorn wsgi:app``."""

from petition import create_app

app = create_app()
