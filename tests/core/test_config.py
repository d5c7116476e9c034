"""Settings come from defaults < file < WORKQ_* env < flags, with clear errors."""

from __future__ import annotations

import pytest

from workq_core import ConfigError
from workq_core.config import Layers, resolve_settings
from workq_core.runtime import bootstrap


def settings_from(tmp_path, toml="", env=None, flags=None):
    path = tmp_path / "workq.toml"
    path.write_text(toml)
    return resolve_settings(Layers.read(str(path), env or {}, flags or {}))


def test_defaults_apply_without_any_source(tmp_path):
    settings = settings_from(tmp_path)
    assert settings.auth.port == 3000
    assert settings.jobs.port == 3001
    assert settings.sources["auth.port"] == "default"


def test_each_layer_overrides_the_one_below(tmp_path):
    toml = "[executor]\nthreads = 2\nprocesses = 3\nmax_attempts = 7\n"
    env = {"WORKQ_EXECUTOR_THREADS": "5", "WORKQ_EXECUTOR_PROCESSES": "6"}
    flags = {"executor.threads": "9"}

    settings = settings_from(tmp_path, toml, env, flags)

    assert settings.executor.max_attempts == 7  # file
    assert settings.executor.processes == 6  # env over file
    assert settings.executor.threads == 9  # flag over env
    assert settings.sources["executor.max_attempts"].startswith("file ")
    assert settings.sources["executor.processes"] == "env WORKQ_EXECUTOR_PROCESSES"
    assert settings.sources["executor.threads"] == "flag"


def test_original_environment_names_keep_working(tmp_path):
    env = {"PORT": "4000", "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test"}
    settings = settings_from(tmp_path, env=env)
    assert settings.auth.port == 4000
    assert settings.database_url == "postgresql://postgres@127.0.0.1:5432/test"
    assert settings.sources["auth.port"] == "env PORT"


def test_workq_name_beats_the_original_name(tmp_path):
    settings = settings_from(tmp_path, env={"PORT": "4000", "WORKQ_AUTH_PORT": "4100"})
    assert settings.auth.port == 4100


def test_plugin_sections_take_part_in_layering(tmp_path):
    runtime = bootstrap(
        config_file=str(_write(tmp_path, "[memory_dedup]\nmax_keys = 10\n")),
        env={"WORKQ_MEMORY_DEDUP_MAX_KEYS": "20"},
    )
    assert runtime.settings.section("memory_dedup").max_keys == 20
    assert runtime.dedup_store().max_keys == 20


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        (
            "",
            {"WORKQ_AUTH_PORT": "http"},
            r"auth.port \(from env WORKQ_AUTH_PORT\): expected an integer",
        ),
        (
            "",
            {"PORT": "70000"},
            r"auth.port \(from env PORT\): expected a number between 1 and 65535",
        ),
        ("[core]\nlocal = 'maybe'\n", {}, r"core.local \(from file .*\): expected true or false"),
        ("[core]\nlog_level = 'LOUD'\n", {}, r"core.log_level .*expected one of DEBUG, INFO"),
        ("[executor]\nthreads = 1.5\n", {}, r"executor.threads .*expected an integer, got 1.5"),
        ("[executor]\nthread = 4\n", {}, r"unknown key executor.thread; known keys: .*threads"),
        (
            "[exekutor]\nthreads = 4\n",
            {},
            r"unknown section \[exekutor\]; known sections: .*executor",
        ),
        ("core = 1\n", {}, r"'core' must be a \[table\]"),
        ("[core\n", {}, r"is not valid TOML"),
    ],
)
def test_bad_values_name_the_key_and_expected_form(tmp_path, toml, env, message):
    with pytest.raises(ConfigError, match=message):
        settings_from(tmp_path, toml, env)


def test_a_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Layers.read(str(tmp_path / "nope.toml"), {}, {})


def test_list_settings_accept_comma_separated_strings(tmp_path):
    settings = settings_from(tmp_path, env={"WORKQ_CORE_DISABLE_PLUGINS": "a, b"})
    assert settings.core.disable_plugins == ("a", "b")


def test_optional_booleans_accept_auto(tmp_path):
    assert (
        settings_from(tmp_path, env={"WORKQ_AUTH_COOKIE_SECURE": "auto"}).auth.cookie_secure is None
    )
    assert (
        settings_from(tmp_path, env={"WORKQ_AUTH_COOKIE_SECURE": "no"}).auth.cookie_secure is False
    )


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path):
    settings = settings_from(tmp_path, env={"WORKQ_CORE_DATA_DIR": str(tmp_path / "d")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'd' / 'workq.db'}"


def _write(tmp_path, text):
    path = tmp_path / "conf.toml"
    path.write_text(text)
    return path
