import pytest

from zarts import create_app
from zarts.config import ConfigError


def test_default_secret_is_refused_in_production(monkeypatch):
    monkeypatch.setenv("ZARTS_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_sets_secure_cookies(monkeypatch):
    monkeypatch.setenv("ZARTS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-private-key-for-this-test")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_default_database_is_sqlite_in_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.instance_path in app.config["SQLALCHEMY_DATABASE_URI"]


def test_landing_page_is_static(client, count_queries):
    with count_queries() as q:
        resp = client.get("/")
    assert resp.status_code == 200 and b"Sign in" in resp.data
    assert q.count == 0
