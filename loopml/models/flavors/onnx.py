"""ONNX models, run with onnxruntime (a graph of standard operators: no code)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.core.errors import UnsafeLoadError
from loopml.models.errors import ModelPackageError
from loopml.models.flavors.base import Flavor

if TYPE_CHECKING:
    from loopml.models.manifest import ModelManifest

_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}
# ai.onnx.ml classifiers name their integer labels one of these ways.
_INT_LABELS = ("classlabels_int64s", "classlabels_ints")


class OnnxFlavor(Flavor):
    """``onnx.ModelProto`` graphs, e.g. from skl2onnx.

    The model is read from its bytes and refused if any tensor points to
    external data (which would make onnxruntime read files named by the
    package). A graph with a single 2-D input gets the frame's values; a graph
    with one input per column gets each column. The first output is the
    prediction; the ``probabilities`` output (or the second) the class
    probabilities.
    """

    name = "onnx"
    file_name = "model.onnx"
    packages = ("onnx", "onnxruntime", "numpy")

    def handles(self, model: Any) -> bool:
        if not type(model).__module__.startswith("onnx"):
            return False
        import onnx

        return isinstance(model, onnx.ModelProto)

    def save(self, model: Any, folder: Path) -> Mapping[str, str]:
        _refuse_external_data(model)
        (folder / self.file_name).write_bytes(model.SerializeToString(deterministic=True))
        return {}

    def load(self, folder: Path, manifest: ModelManifest, *, allow_pickle: bool) -> Any:
        import onnx
        import onnxruntime

        data = self.model_path(folder, manifest).read_bytes()
        try:
            model = onnx.load_model_from_string(data)
        except Exception as exc:  # protobuf raises its own DecodeError, not exported by onnx
            raise ModelPackageError(f"{self.file_name} is not an ONNX model: {exc}") from exc
        _refuse_external_data(model)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own, unexported, error types
            raise ModelPackageError(f"onnxruntime refused {self.file_name}: {exc}") from exc

    def predict(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        return native.run(None, _feed(native, frame))[0]

    def predict_proba(self, native: Any, frame: Any, manifest: ModelManifest) -> Any:
        import numpy as np

        names = [out.name for out in native.get_outputs()]
        if len(names) < 2:
            raise ModelPackageError("this ONNX model has no probabilities output")
        wanted = "probabilities" if "probabilities" in names else names[1]
        (result,) = native.run([wanted], _feed(native, frame))
        if isinstance(result, list):  # a ZipMap: one {label: probability} per row
            classes = list(manifest.classes or ())
            return np.array([[row[c] for c in classes] for row in result], dtype=float)
        return np.asarray(result)

    def task(self, model: Any) -> str | None:
        return "classification" if self.classes(model) else None

    def classes(self, model: Any) -> list[Any] | None:
        for node in model.graph.node:
            for attribute in node.attribute:
                if attribute.name in _INT_LABELS and attribute.ints:
                    return [int(v) for v in attribute.ints]
                if attribute.name == "classlabels_strings" and attribute.strings:
                    return [v.decode() for v in attribute.strings]
        return None


def _feed(session: Any, frame: Any) -> dict[str, Any]:
    """One graph input per column by name, or the whole frame as the graph's only input."""
    inputs = session.get_inputs()
    if all(item.name in frame.columns for item in inputs):
        return {
            item.name: frame[item.name].to_numpy(dtype=_DTYPES.get(item.type)).reshape(-1, 1)
            for item in inputs
        }
    if len(inputs) != 1:
        names = ", ".join(item.name for item in inputs)
        raise ModelPackageError(f"the ONNX graph takes inputs {names}; name the columns so")
    only = inputs[0]
    return {only.name: frame.to_numpy(dtype=_DTYPES.get(only.type, "float32"))}


def _refuse_external_data(model: Any) -> None:
    import onnx

    for tensor in _tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise UnsafeLoadError(
                f"ONNX tensor {tensor.name!r} points to external data, which would make "
                "onnxruntime read files the package names; embed the weights in the model"
            )


def _tensors(graph: Any) -> Iterator[Any]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _tensors(attribute.g)
            for sub in attribute.graphs:
                yield from _tensors(sub)
