from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest

from musicd.config import Config, load_config
from musicd.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_defaults() -> None:
    c = load_config(environ={})
    assert c.server.host == "127.0.0.1"
    assert c.server.port == 4747
    assert c.library.folders == []
    assert c.library.scan_on_start == "if_empty"
    assert c.data.dir == "" and c.data_dir == Path("~/.local/share/musicd").expanduser().resolve()
    assert c.log.level == "info"
    assert msgspec.to_builtins(c) == msgspec.to_builtins(Config())


def test_env_port_override() -> None:
    c = load_config(environ={"MUSICD_SERVER_PORT": "8080"})
    assert c.server.port == 8080


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[server]\nprot = 1234\n")
    with pytest.raises(ConfigError) as err:
        load_config(f, environ={})
    assert "server.prot" in err.value.message


def test_unknown_section_is_named(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[sever]\nport = 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(f, environ={})
    assert "sever" in err.value.message


def test_bad_value_is_named(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[server]\nport = "lots"\n')
    with pytest.raises(ConfigError) as err:
        load_config(f, environ={})
    assert "server.port" in err.value.message
    with pytest.raises(ConfigError) as err:
        load_config(environ={"MUSICD_SERVER_PORT": "70000"})
    assert "server" in err.value.message
    with pytest.raises(ConfigError) as err:
        load_config(environ={"MUSICD_LOG_LEVEL": "loud"})
    assert "log.level" in err.value.message


def test_unknown_env_key_is_named() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(environ={"MUSICD_SERVER_PROT": "1"})
    assert "server.prot" in err.value.message


def test_variables_of_the_scripts_and_the_speaker_are_not_settings() -> None:
    # scripts/run's MUSICD_VENV, scripts/test's MUSICD_EXTRAS, `musicd speaker`'s API key: set in the same
    # shell as every musicd command, never refused as unknown settings
    env = {"MUSICD_VENV": "/opt/venv", "MUSICD_EXTRAS": "test", "MUSICD_WITH_BROWSER": "1",
           "MUSICD_SPEAKER_API_KEY": "k", "MUSICD_SERVER_PORT": "5000"}
    assert load_config(environ=env).server.port == 5000
    with pytest.raises(ConfigError) as err:
        load_config(environ={**env, "MUSICD_VENVV": "/x"})
    assert "MUSICD_VENVV" in err.value.message


def test_keys_checked_together_are_checked_on_the_whole_section() -> None:
    # each value alone is fine; only the pair decides (a per-key check against the defaults refused 5/5)
    env = {"MUSICD_REALTIME_HISTORY_EVENTS": "5", "MUSICD_REALTIME_HISTORY_MAX_EVENTS": "5"}
    assert load_config(environ=env).realtime.history_max_events == 5
    with pytest.raises(ConfigError) as err:
        load_config(environ={"MUSICD_REALTIME_HISTORY_MAX_EVENTS": "5"})
    assert "history_max_events must be >= history_events" in err.value.message


def test_library_folders_from_env_use_pathsep(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    c = load_config(environ={"MUSICD_LIBRARY_FOLDERS": f"{a}{os.pathsep}{b}{os.pathsep}"})
    assert c.library.folders == [str(a), str(b)]
    assert c.library_folders == [a.resolve(), b.resolve()]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_example_config_is_the_defaults() -> None:
    example = REPO_ROOT / "config.example.toml"
    if not example.exists():
        pytest.skip("config.example.toml not written yet")
    c = load_config(example, environ={})
    assert msgspec.to_builtins(c) == msgspec.to_builtins(Config())
