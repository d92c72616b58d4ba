"""The generated admin (Flask-Admin) for every table."""

from flask_admin import Admin


def init_admin(app) -> None:
    Admin(app, name="ZartsAlgo admin")
