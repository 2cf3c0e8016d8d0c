from __future__ import annotations

from pathlib import Path

import pytest

from loopml.core import ConfigError, Settings


def test_defaults_keep_everything_under_dot_loopml(isolated_project: Path) -> None:
    settings = Settings.load(environ={})
    assert settings.project_dir == isolated_project
    assert settings.home == isolated_project / ".loopml"
    assert settings.metadata_uri == f"sqlite:///{isolated_project / '.loopml' / 'metadata.db'}"
    assert settings.artifact_uri == str(isolated_project / ".loopml" / "artifacts")


def test_precedence_explicit_over_env_over_yaml_over_default(isolated_project: Path) -> None:
    (isolated_project / "loopml.yaml").write_text(
        "metadata_uri: sqlite:///from-yaml.db\nartifact_uri: yaml-artifacts\nuser: yaml-user\n"
    )
    env = {"LOOPML_ARTIFACT_URI": "s3://bucket/env", "LOOPML_USER": "env-user"}
    settings = Settings.load(environ=env, user="explicit-user")
    assert settings.metadata_uri == f"sqlite:///{isolated_project / 'from-yaml.db'}"
    assert settings.artifact_uri == "s3://bucket/env"
    assert settings.user == "explicit-user"
    assert Settings.load(environ=env).user == "env-user"
    assert Settings.load(environ={}).user == "yaml-user"


def test_project_folder_is_found_upwards(
    isolated_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated_project / "loopml.yaml").write_text("home: state\n")
    nested = isolated_project / "src" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    settings = Settings.load(environ={})
    assert settings.project_dir == isolated_project
    assert settings.home == isolated_project / "state"


def test_env_project_dir_wins_over_search(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    settings = Settings.load(environ={"LOOPML_PROJECT_DIR": str(other)})
    assert settings.project_dir == other


def test_unknown_yaml_key_is_refused_with_a_hint(isolated_project: Path) -> None:
    (isolated_project / "loopml.yaml").write_text("metdata_uri: sqlite:///x.db\n")
    with pytest.raises(ConfigError, match="did you mean 'metadata_uri'"):
        Settings.load(environ={})


def test_capability_sections_are_kept_raw(isolated_project: Path) -> None:
    (isolated_project / "loopml.yaml").write_text("catalog:\n  flights:\n    path: data.csv\n")
    assert Settings.load(environ={}).sections["catalog"] == {"flights": {"path": "data.csv"}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "must hold a mapping"),
        ("metadata_uri: [unclosed\n", "not valid YAML"),
        ("flush_interval: -1\n", "between 0 and 60"),
        ("flush_interval: soon\n", "number of seconds"),
        ("artifact_options: 3\n", "mapping of fsspec"),
    ],
)
def test_bad_yaml_values_are_config_errors(isolated_project: Path, text: str, message: str) -> None:
    (isolated_project / "loopml.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        Settings.load(environ={})


def test_artifact_options_from_env_must_be_json() -> None:
    with pytest.raises(ConfigError, match="JSON"):
        Settings.load(environ={"LOOPML_ARTIFACT_OPTIONS": "{not json"})
    options = Settings.load(environ={"LOOPML_ARTIFACT_OPTIONS": '{"endpoint_url": "http://x"}'})
    assert options.artifact_options == {"endpoint_url": "http://x"}
