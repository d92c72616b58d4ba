"""Every setting the README's configuration table documents is read from the environment by
`config.from_env`, and every job setting (JOBS_*) is documented there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zarts import config

README = Path(__file__).resolve().parents[1] / "README.md"

# Where a variable lands when its config key has another name, and values whose reading is not a
# plain copy (given: (value set, value expected)).
CONFIG_KEY = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}
SAMPLES = {
    "DATABASE_URL": ("postgres://u@db.example/zarts", "postgresql+psycopg://u@db.example/zarts"),
    "ZARTS_ENV": ("production", "production"),
    "DEFAULT_TIME_ZONE": ("Europe/Berlin", "Europe/Berlin"),
    "BASE_CURRENCY": ("usd", "USD"),
}


def documented() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", section, flags=re.M)
    assert names, "the README's configuration table was not found"
    return names


def sample(name: str, default):
    """(value to set, value from_env must give) for a variable whose default is `default`."""
    if name in SAMPLES:
        return SAMPLES[name]
    if isinstance(default, bool):
        return ("false", False) if default else ("true", True)
    if isinstance(default, int):
        return str(default + 7), default + 7
    if isinstance(default, list) and all(isinstance(v, int) for v in default):
        return "5, 15,45", [5, 15, 45]
    return "value-from-the-environment", "value-from-the-environment"


@pytest.mark.parametrize("name", documented())
def test_a_documented_setting_is_read_from_the_environment(name, monkeypatch, tmp_path):
    monkeypatch.delenv(name, raising=False)
    key = CONFIG_KEY.get(name, name)
    before = config.from_env(str(tmp_path))
    assert key in before, f"{name} is documented in the README but config.from_env does not read it"
    raw, expected = sample(name, before[key])
    monkeypatch.setenv(name, raw)
    assert config.from_env(str(tmp_path))[key] == expected


def test_every_job_and_page_cache_setting_is_documented():
    names = [*(name for name in config.JOBS if name.startswith("JOBS_")), *config.PAGE_CACHE]
    undocumented = [name for name in names if name not in documented()]
    assert undocumented == []


def test_a_job_setting_that_is_not_a_number_is_refused_in_words(monkeypatch, tmp_path):
    monkeypatch.setenv("JOBS_STALE_SECONDS", "half a minute")
    with pytest.raises(config.ConfigError, match="JOBS_STALE_SECONDS='half a minute' is not a whole number"):
        config.from_env(str(tmp_path))
    monkeypatch.setenv("JOBS_STALE_SECONDS", "20")
    monkeypatch.setenv("JOBS_RETRY_INTERVALS", "10;60")
    with pytest.raises(config.ConfigError, match="JOBS_RETRY_INTERVALS"):
        config.from_env(str(tmp_path))


def test_job_timings_from_the_environment_reach_the_app(monkeypatch):
    from zarts import create_app

    monkeypatch.setenv("JOBS_STALE_SECONDS", "12")
    monkeypatch.setenv("JOBS_RETRY_INTERVALS", "1,2")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["JOBS_STALE_SECONDS"] == 12 and app.config["JOBS_RETRY_INTERVALS"] == [1, 2]
