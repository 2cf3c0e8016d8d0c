"""Model evaluation: metrics agree with scikit-learn, slices, odd data, HTML and JSON."""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression, LogisticRegression

from loopml.core.errors import InvalidInputError
from loopml.validation import Evaluation, Slice, evaluate
from loopml.validation.materializers import ValidationMaterializer
from loopml.validation.metrics import expected_calibration_error


def flights(rows: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "distance": rng.integers(100, 3000, rows),
            "hour": rng.integers(5, 24, rows),
            "temp": rng.normal(40, 10, rows),
            "origin": rng.choice(["EWR", "JFK", "LGA"], rows),
        }
    )
    score = 0.002 * frame["distance"] + 0.2 * frame["hour"] - 0.05 * frame["temp"]
    frame["delayed"] = (score + rng.normal(0, 1.5, rows) > score.median()).astype(int)
    return frame


FEATURES = ["distance", "hour", "temp"]


@pytest.fixture(scope="module")
def binary() -> tuple[LogisticRegression, pd.DataFrame]:
    train, test = flights(seed=0), flights(seed=1)
    return LogisticRegression(max_iter=500).fit(train[FEATURES], train["delayed"]), test


def test_binary_metrics_agree_with_scikit_learn(binary: Any) -> None:
    model, test = binary
    result = evaluate(model, test, target="delayed", features=FEATURES)
    y, proba = test["delayed"], model.predict_proba(test[FEATURES])
    predicted = model.predict(test[FEATURES])
    expected = {
        "accuracy": skm.accuracy_score(y, predicted),
        "precision": skm.precision_score(y, predicted),
        "recall": skm.recall_score(y, predicted),
        "f1": skm.f1_score(y, predicted),
        "roc_auc": skm.roc_auc_score(y, proba[:, 1]),
        "log_loss": skm.log_loss(y, proba),
        "brier": skm.brier_score_loss(y, proba[:, 1]),
        "positive_rate": float(np.mean(predicted == 1)),
    }
    assert result.task == "binary" and result.classes == ("0", "1") and result.positive_label == "1"
    for name, value in expected.items():
        assert result.metric(name) == pytest.approx(value, abs=1e-12), name
    assert result.confusion == tuple(map(tuple, skm.confusion_matrix(y, predicted)))
    assert 0 < result.metric("ece") < 0.2


def test_expected_calibration_error_against_a_brute_force_sum() -> None:
    rng = np.random.default_rng(3)
    confidence, outcome = rng.random(500), rng.random(500) < 0.3
    brute = 0.0
    for low in np.arange(10) / 10:
        inside = (confidence >= low) & (confidence < low + 0.1)
        if inside.any():
            gap = abs(confidence[inside].mean() - outcome[inside].mean())
            brute += gap * inside.sum() / 500
    assert expected_calibration_error(confidence, outcome) == pytest.approx(brute)


def test_multiclass_metrics_are_macro_averages_as_scikit_learn_computes_them() -> None:
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True).frame.sample(frac=1.0, random_state=0)
    data["target"] = data["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    X = data.drop(columns="target")
    model = LogisticRegression(max_iter=2000).fit(X.iloc[:90], data["target"].iloc[:90])
    test = data.iloc[90:]
    result = evaluate(model, test, target="target")
    y, proba = test["target"], model.predict_proba(test[X.columns])
    predicted = model.predict(test[X.columns])
    assert result.task == "multiclass"
    assert result.metric("f1") == pytest.approx(skm.f1_score(y, predicted, average="macro"))
    assert result.metric("recall") == pytest.approx(skm.recall_score(y, predicted, average="macro"))
    assert result.metric("roc_auc") == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", labels=model.classes_)
    )
    assert result.metric("log_loss") == pytest.approx(skm.log_loss(y, proba, labels=model.classes_))
    onehot = np.eye(3)[pd.Index(model.classes_).get_indexer(y)]
    assert result.metric("brier") == pytest.approx(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    assert result.metric("positive_rate") is None and "multiclass" in result.notes["positive_rate"]
    assert sum(map(sum, result.confusion)) == len(test)


def test_regression_metrics_agree_and_mape_leaves_zero_targets_out() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=400)})
    frame["y"] = 3 * frame["x"] + rng.normal(size=400)
    frame.loc[:9, "y"] = 0.0
    model = LinearRegression().fit(frame[["x"]], frame["y"])
    result = evaluate(model, frame, target="y")
    predicted = model.predict(frame[["x"]])
    nonzero = frame["y"] != 0
    assert result.task == "regression"
    assert result.metric("rmse") == pytest.approx(skm.root_mean_squared_error(frame.y, predicted))
    assert result.metric("mae") == pytest.approx(skm.mean_absolute_error(frame.y, predicted))
    assert result.metric("r2") == pytest.approx(skm.r2_score(frame.y, predicted))
    assert result.metric("mape") == pytest.approx(
        skm.mean_absolute_percentage_error(frame.y[nonzero], predicted[nonzero])
    )
    assert result.notes["mape"] == "10 rows whose target is 0 left out"
    assert result.curves == {} and result.confusion == ()


def test_slices_by_values_ranges_and_where_match_the_subsets(binary: Any) -> None:
    model, test = binary
    slices = [
        Slice.by_values("origin"),
        Slice.by_ranges("distance", [0, 500, 1500, None]),
        Slice.where("night", "hour >= 20"),
    ]
    result = evaluate(model, test, target="delayed", features=FEATURES, slices=slices)
    subsets = {
        "origin=JFK": test[test.origin == "JFK"],
        "distance=[0, 500)": test[test.distance < 500],
        "distance=[500, 1500)": test[(test.distance >= 500) & (test.distance < 1500)],
        "distance=[1500, inf)": test[test.distance >= 1500],
        "night": test[test.hour >= 20],
    }
    keys = [group.key for group in result.slices]
    assert set(keys[:3]) == {"origin=EWR", "origin=JFK", "origin=LGA"}
    assert keys[3:] == [
        "distance=[0, 500)",
        "distance=[500, 1500)",
        "distance=[1500, inf)",
        "night",
    ]
    for key, rows in subsets.items():
        group = result.group(key)
        assert group.rows == len(rows) and group.status == "ok"
        alone = evaluate(model, rows, target="delayed", features=FEATURES)
        for name in ("accuracy", "f1", "roc_auc", "log_loss"):
            assert result.metric(name, slice=key) == pytest.approx(alone.metric(name)), (key, name)
    assert result.metric("accuracy", slice=("origin", "JFK")) == result.metric(
        "accuracy", slice="origin=JFK"
    )
    assert sum(g.rows for g in result.slices if g.slice == "distance") == len(test)


def test_odd_slices_are_reported_never_raised(binary: Any) -> None:
    model, test = binary
    test = test.copy()
    test.loc[test.origin == "LGA", "delayed"] = 1  # one class only there
    test.loc[:4, "origin"] = None  # a few rows without a value
    slices = [
        Slice.by_values("origin"),
        Slice.by_ranges("distance", [None, 0, 100]),  # no flight is that short
        Slice.by_values("origin", ["SFO"], name="west"),
    ]
    result = evaluate(model, test, target="delayed", features=FEATURES, slices=slices, min_rows=30)
    lga = result.group("origin=LGA")
    assert lga.metrics["roc_auc"] is None and lga.notes["roc_auc"] == "only one class in the target"
    assert lga.metrics["accuracy"] is not None
    missing = result.group("origin=(missing)")
    assert (missing.rows, missing.status) == (5, "insufficient_data")
    for key in ("distance=(-inf, 0)", "distance=[0, 100)", "west=SFO"):
        empty = result.group(key)
        assert (empty.rows, empty.status) == (0, "insufficient_data")
        assert set(empty.metrics.values()) == {None} and empty.notes["accuracy"] == "no rows"
    json.dumps(result.to_dict(), allow_nan=False)


def test_values_beyond_max_values_are_grouped_as_other(binary: Any) -> None:
    model, test = binary
    result = evaluate(
        model, test, target="delayed", features=FEATURES,
        slices=[Slice.by_values("hour", max_values=3)],
    )  # fmt: skip
    groups = [g for g in result.slices if g.slice == "hour"]
    assert len(groups) == 4 and groups[-1].value == "(other)"
    assert sum(g.rows for g in groups) == len(test)


class Constant:
    """A model that predicts what it is told to, for odd outputs."""

    def __init__(self, predictions: Any, proba: Any = None) -> None:
        self.predictions = predictions
        self.proba = proba

    def predict(self, X: Any) -> Any:
        return self.predictions

    def predict_proba(self, X: Any) -> Any:
        return self.proba


def test_nan_predictions_and_bad_inputs_are_refused_with_clear_errors() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(InvalidInputError, match=r"NaN or infinite values for 1 of 3 .*row 1"):
        evaluate(RegressorOnly(np.array([1.0, np.nan, 3.0])), frame, target="y")
    labels = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "a"]})
    with pytest.raises(InvalidInputError, match="predict\\(\\) returned no label"):
        evaluate(Constant(np.array(["a", None, "b"]), np.full((3, 2), 0.5)), labels, target="y")
    with pytest.raises(InvalidInputError, match="predict_proba\\(\\) returned NaN"):
        evaluate(Constant(np.array(["a", "b", "a"]), np.full((3, 2), np.nan)), labels, target="y")
    knows_a_b = Constant(np.array(["a", "c", "a"]), np.full((3, 2), 0.5))
    knows_a_b.classes_ = np.array(["a", "b"])
    with pytest.raises(InvalidInputError, match="labels the model does not know: c"):
        evaluate(knows_a_b, labels, target="y")
    with pytest.raises(InvalidInputError, match="gives 2 columns for 3 classes"):
        evaluate(Constant(np.array(["a", "c", "a"]), np.full((3, 2), 0.5)), labels, target="y")
    with pytest.raises(InvalidInputError, match="no target column 'z'"):
        evaluate(Constant(np.zeros(3)), frame, target="z")
    with pytest.raises(InvalidInputError, match="missing in 1 of 3 rows"):
        evaluate(Constant(np.zeros(3)), frame.assign(y=[1.0, None, 2.0]), target="y")
    with pytest.raises(InvalidInputError, match="no column 'nope'"):
        evaluate(RegressorOnly(np.zeros(3)), frame, target="y", slices=[Slice.by_values("nope")])
    with pytest.raises(InvalidInputError, match="cannot evaluate"):
        evaluate(RegressorOnly(np.zeros(3)), frame, target="y", slices=[Slice.where("w", "x >")])


class RegressorOnly:
    def __init__(self, predictions: Any) -> None:
        self.predictions = predictions

    def predict(self, X: Any) -> Any:
        return self.predictions


class PackagedModel:
    """Duck-typed like loopml.models.LoadedModel: classes come from its manifest."""

    class manifest:  # noqa: N801 - an attribute, like LoadedModel.manifest
        task = "classification"
        classes = ("yes", "no")  # not sorted: proba columns follow this order

    def predict(self, X: Any) -> Any:
        return np.where(X["x"] > 0, "yes", "no")

    def predict_proba(self, X: Any) -> Any:
        yes = 1 / (1 + np.exp(-3 * X["x"].to_numpy()))
        return np.column_stack([yes, 1 - yes])


def test_a_packaged_model_is_read_through_its_manifest() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=300)})
    frame["y"] = np.where(frame["x"] + rng.normal(0, 0.5, 300) > 0, "yes", "no")
    result = evaluate(PackagedModel(), frame, target="y", positive_label="yes")
    assert result.classes == ("yes", "no") and result.positive_label == "yes"
    yes = 1 / (1 + np.exp(-3 * frame["x"]))
    assert result.metric("roc_auc") == pytest.approx(skm.roc_auc_score(frame.y == "yes", yes))
    assert result.metric("roc_auc") > 0.9


class Checker(HTMLParser):
    VOID = {"meta", "rect", "line", "circle", "polyline"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.counts: dict[str, int] = {}
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


def parsed(document: str) -> Checker:
    checker = Checker()
    checker.feed(document)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    return checker


def test_the_html_report_parses_and_holds_the_plots(binary: Any) -> None:
    model, test = binary
    test = test.assign(origin=test["origin"].replace("JFK", "<script>x</script>"))
    result = evaluate(
        model, test, target="delayed", features=FEATURES, slices=[Slice.by_values("origin")],
        name="flights <v2>",
    )  # fmt: skip
    document = result.to_html()
    checker = parsed(document)
    assert checker.counts["svg"] == 4  # ROC, PR, calibration, confusion matrix
    assert checker.counts.get("script", 0) == 0 and "&lt;script&gt;" in document
    assert "flights &lt;v2&gt;" in document and "origin" in document
    assert checker.counts["polyline"] == 3 and checker.counts["circle"] >= 5
    assert len(result.curves["roc"]["fpr"]) <= 200 and result.curves["roc"]["fpr"][0] == 0.0
    assert result.curves["roc"]["tpr"][-1] == 1.0
    calibration = result.curves["calibration"]
    assert sum(calibration["rows"]) == len(test) and len(calibration["rows"]) <= 10


def test_regression_html_has_tables_and_no_curves() -> None:
    frame = pd.DataFrame({"x": np.arange(50.0), "y": np.arange(50.0) * 2 + 1})
    result = evaluate(LinearRegression().fit(frame[["x"]], frame.y), frame, target="y")
    checker = parsed(result.to_html())
    assert checker.counts.get("svg", 0) == 0 and checker.counts["table"] == 1


def test_json_round_trips_directly_and_through_the_materializer(binary: Any) -> None:
    model, test = binary
    slices = [Slice.by_values("origin"), Slice.by_ranges("distance", [0, 1000, None])]
    result = evaluate(model, test, target="delayed", features=FEATURES, slices=slices, name="m")
    text = result.to_json()
    assert "NaN" not in text and Evaluation.from_dict(json.loads(text)) == result
    materializer = ValidationMaterializer()
    stored = materializer.dump(result)
    assert materializer.load(stored, "loopml.validation.evaluation.Evaluation") == result
    assert [Slice.from_dict(d) for d in result.slice_definitions] == slices
    with pytest.raises(ValueError, match="not an evaluation"):
        Evaluation.from_dict({"task": "binary"})


def test_slices_round_trip_as_dicts_and_bad_ones_are_refused() -> None:
    for piece in (
        Slice.by_values("origin"),
        Slice.by_values("origin", ["JFK", "EWR"], name="ny", max_values=5),
        Slice.by_ranges("distance", [None, 0, 500.5, None]),
        Slice.where("night", "hour >= 20"),
    ):
        assert Slice.from_dict(json.loads(json.dumps(piece.to_dict()))) == piece
    assert Slice.from_dict({"kind": "values", "column": "origin"}).name == "origin"
    assert Slice.by_ranges("d", [0, 500, None]).labels() == ("[0, 500)", "[500, inf)")
    bad = [
        ({"kind": "ranges", "column": "d", "edges": [5, 1]}, "edges must increase"),
        ({"kind": "ranges", "column": "d", "edges": [0, None, 5]}, "first and last"),
        ({"kind": "ranges", "column": "d", "edges": [0, math.inf]}, "finite"),
        ({"kind": "values", "column": "d", "colour": "red"}, "unknown slice field"),
        ({"kind": "bins", "column": "d"}, "not one of"),
        ({"kind": "where", "name": "w"}, "needs an expression"),
    ]
    for data, message in bad:
        with pytest.raises(InvalidInputError, match=message):
            Slice.from_dict(data)


def test_metric_lookups_say_what_exists(binary: Any) -> None:
    model, test = binary
    result = evaluate(model, test, target="delayed", features=FEATURES)
    with pytest.raises(KeyError, match="no metric 'rmse'"):
        result.metric("rmse")
    with pytest.raises(KeyError, match="no slice group 'origin=JFK'"):
        result.metric("f1", slice="origin=JFK")
