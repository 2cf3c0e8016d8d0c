"""Model cards: from lineage, checks, approvals and alias history; readable by huggingface_hub."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loopml.registry import ModelRegistry
from loopml.workspace import Workspace


def _story(
    workspace: Workspace, as_user: Callable[[str], ModelRegistry]
) -> tuple[ModelRegistry, str, str]:
    store = workspace.metadata
    data = workspace.save({"rows": [1, 2, 3]}, properties={"rows": 3})
    run = store.create_execution("run", name="train-weekly", params={"lr": "0.1"})
    model = workspace.save({"weights": [0.1, 0.2]})
    workspace.record_events(run.id, inputs={"train": data.id}, outputs={"model": model.id})
    store.log_metrics([(run.id, "auc", 0.71, 0, 1.0), (run.id, "f1", 0.42, 0, 1.0)])
    store.finish_execution(run.id, "completed")
    evidence = workspace.save({"blessed": True, "reasons": ["auc 0.71 >= 0.65"]})
    alice = as_user("alice")
    alice.register_model("flights", model.id, tags={"team": "core"})
    alice.describe(
        "flights",
        intended_use="Rank flights by delay risk for ops staffing.",
        limitations="Trained on 2013 NYC departures only.",
        license="mit",
    )
    alice.record_check("flights", 1, "blessing", True, evidence.id)
    as_user("bob").approve("flights", 1, reason="slices hold")
    alice.promote("flights", 1, reason="first model")
    return alice, run.id, data.id


def test_markdown_card_is_read_back_by_huggingface_hub(
    workspace: Workspace, as_user: Callable[[str], ModelRegistry]
) -> None:
    from huggingface_hub import ModelCard

    registry, run_id, data_id = _story(workspace, as_user)
    text = registry.model_card("flights", 1).markdown()
    card = ModelCard(text)
    assert card.data.library_name == "loopml"
    assert card.data.license == "mit"
    assert card.data.tags == ["loopml", "team"]
    assert card.data.model_name == "flights"
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert results == {"auc": 0.71, "f1": 0.42}
    assert card.data.eval_results[0].task_type == "tabular-classification"
    assert card.data.eval_results[0].dataset_name == "train"
    body = card.text
    for expected in (
        "Rank flights by delay risk",
        "Trained on 2013 NYC departures only.",
        run_id,
        data_id,
        "train-weekly",
        "auc 0.71 >= 0.65",
        "slices hold",
        "first model",
        "| blessing | passed |",
    ):
        assert expected in body, expected


def test_html_card_is_standalone_and_escaped(
    workspace: Workspace, as_user: Callable[[str], ModelRegistry]
) -> None:
    registry, _, _ = _story(workspace, as_user)
    registry.describe("flights", limitations="<script>alert(1)</script>")
    page = registry.model_card("flights", 1).html()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page
    assert "Model card: flights version 1" in page and "production" in page


def test_html_card_parses_and_escapes_the_model_description(
    workspace: Workspace,
    as_user: Callable[[str], ModelRegistry],
    check_html: Callable[[str], Any],
) -> None:
    registry, _, _ = _story(workspace, as_user)
    registry.describe("flights", description='<script>alert("card")</script> & more')
    page = registry.model_card("flights", 1).html()
    checker = check_html(page)
    assert "script" not in checker.counts
    assert "&lt;script&gt;alert(&quot;card&quot;)&lt;/script&gt; &amp; more" in page
    assert checker.counts["section"] >= 9 and checker.counts["table"] >= 5
    assert 'class="pill status-good">passed<' in page, "the blessing check as a green pill"
    urls = [value for name, value in checker.attributes if name in ("src", "href") and value]
    assert urls == []


def test_a_card_without_run_metrics_or_text_still_renders(
    workspace: Workspace, as_user: Callable[[str], ModelRegistry]
) -> None:
    from huggingface_hub import ModelCard

    registry = as_user("alice")
    registry.register_model("bare", workspace.save({"w": 1}).id)
    card = registry.model_card("bare", 1)
    assert card.run is None and card.metrics == {}
    parsed = ModelCard(card.markdown())
    assert parsed.data.library_name == "loopml" and parsed.data.eval_results is None
    assert "Not written yet" in card.markdown() and "No run is recorded" in card.html()
