"""Deployment files and server options."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.core import Settings
from loopml.core.errors import ConfigError
from loopml.serving import DeploymentSpec, ServingOptions, load_deployments

FULL = """\
deployments:
  - name: flights
    model: flight-delays@production
    poll_interval: 2
    canary: {model: flight-delays@staging, percent: 10}
    shadow: {model: flight-delays@candidate}
    features: {service: delays, entity_keys: [origin]}
  - model: other:3
    ab:
      key: carrier
      variants: {a: other:3, b: other:4}
"""


def test_a_full_file_reads(tmp_path: Path) -> None:
    file = tmp_path / "d.yaml"
    file.write_text(FULL)
    flights, other = load_deployments(file)
    assert flights.name == "flights" and flights.canary and flights.canary.percent == 10
    assert flights.shadow and flights.shadow.percent == 100
    assert flights.features and flights.features.entity_keys == ("origin",)
    assert flights.references() == [
        "flight-delays@production", "flight-delays@staging", "flight-delays@candidate"
    ]  # fmt: skip
    assert other.name == "other" and other.ab and other.ab.weights == {"a": 1, "b": 1}
    assert DeploymentSpec.for_model("m@live").name == "m"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[]", "deployments"),
        ("- {name: x}", "model"),
        ("- {model: m, extra: 1}", "unknown key extra"),
        ("- {model: m, canary: {model: m@b, percent: 120}}", "percentage"),
        ("- {model: m, canary: {model: m@b, percent: lots}}", "number"),
        ("- {model: m, ab: {variants: {a: m}}}", "two variants"),
        ("- {model: m, ab: {variants: {a: m, b: n}, weights: {a: 1}}}", "every variant"),
        ("- {model: m, features: {service: s}}", "entity_keys"),
        ("- {model: m, name: 'a b'}", "letters"),
        ("- {model: m}\n- {model: m}", "twice"),
        ("a: [b", "not YAML"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, match: str) -> None:
    file = tmp_path / "d.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_deployments(file)


def test_options_come_from_the_serving_section(tmp_path: Path) -> None:
    (tmp_path / "loopml.yaml").write_text("serving:\n  max_batch_size: 8\n  timeout: 2.5\n")
    options = ServingOptions.from_settings(Settings.load(tmp_path), max_rows=10)
    assert (options.max_batch_size, options.timeout, options.max_rows) == (8, 2.5, 10)
    (tmp_path / "loopml.yaml").write_text("serving:\n  max_batchsize: 8\n")
    with pytest.raises(ConfigError, match="max_batchsize"):
        ServingOptions.from_settings(Settings.load(tmp_path))
    with pytest.raises(ConfigError):
        load_deployments(tmp_path / "missing.yaml")
