"""The Open Inference Protocol v2 (KServe, Triton): tensors in, tensors out, JSON or binary.

tritonclient sends binary tensors by default: the body is a JSON header of
``Inference-Header-Content-Length`` bytes followed by the raw tensors, in
input order, each input naming its ``binary_data_size``; it sends no
Content-Type. Answers are binary for the outputs that ask for it.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidInputError

if TYPE_CHECKING:
    from loopml.models import Signature

HEADER_LENGTH = "inference-header-content-length"

DTYPES = {
    "BOOL": "?", "UINT8": "u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8",
    "INT8": "i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8",
    "FP16": "<f2", "FP32": "<f4", "FP64": "<f8",
}  # fmt: skip
LOGICAL_TO_V2 = {"float": "FP64", "int": "INT64", "bool": "BOOL"}


def parse_request(body: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    """Split a request body into its JSON header and its binary part.

    Raises:
        InvalidInputError: if the header is not a JSON object.
    """
    binary = b""
    if header_length is not None:
        try:
            size = int(header_length)
        except ValueError:
            raise InvalidInputError("Inference-Header-Content-Length is a byte count") from None
        if not 0 <= size <= len(body):
            raise InvalidInputError("Inference-Header-Content-Length is beyond the body")
        body, binary = body[:size], body[size:]
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("the inference request is not JSON") from None
    if not isinstance(request, dict):
        raise InvalidInputError("the inference request is a JSON object")
    return request, binary


def decode_inputs(
    request: Mapping[str, Any], binary: bytes, signature: Signature
) -> tuple[dict[str, Any], int]:
    """The request's input tensors as columns (one tensor per column, or one 2-D tensor).

    Raises:
        InvalidInputError: on a malformed tensor (shape, datatype, sizes).
    """
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInputError("'inputs' is a non-empty list of tensors")
    offset, tensors = 0, {}
    for tensor in inputs:
        if not isinstance(tensor, Mapping) or not isinstance(tensor.get("name"), str):
            raise InvalidInputError("each input is an object with a name")
        array, offset = _tensor(tensor, binary, offset)
        tensors[tensor["name"]] = array
    if offset != len(binary):
        raise InvalidInputError(f"{len(binary) - offset} binary bytes belong to no input")
    names = signature.input_names
    if len(tensors) == 1 and next(iter(tensors)) not in names:
        array = next(iter(tensors.values()))
        if array.ndim == 2 and array.shape[1] == len(names):
            return {n: array[:, i] for i, n in enumerate(names)}, array.shape[0]
    columns = {}
    for name, tensor in tensors.items():
        array = tensor[:, 0] if tensor.ndim == 2 and tensor.shape[1] == 1 else tensor
        if array.ndim != 1:
            raise InvalidInputError(
                f"input {name!r} has shape {list(array.shape)}; give [n] or [n, 1]"
            )
        columns[name] = array
    lengths = {len(a) for a in columns.values()}
    if len(lengths) != 1:
        raise InvalidInputError("every input tensor has the same number of rows")
    return columns, lengths.pop()


def _tensor(tensor: Mapping[str, Any], binary: bytes, offset: int) -> tuple[Any, int]:
    import numpy as np

    name, datatype = tensor["name"], tensor.get("datatype")
    shape = tensor.get("shape")
    if (
        not isinstance(shape, list)
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        or not 1 <= len(shape) <= 2
    ):
        raise InvalidInputError(f"input {name!r}: shape is a list of 1 or 2 sizes")
    count = math.prod(shape)
    if datatype != "BYTES" and datatype not in DTYPES:
        raise InvalidInputError(f"input {name!r}: unknown datatype {datatype!r}")
    size = (tensor.get("parameters") or {}).get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size < 0 or offset + size > len(binary):
            raise InvalidInputError(f"input {name!r}: binary_data_size is beyond the body")
        raw = binary[offset : offset + size]
        offset += size
        if datatype == "BYTES":
            flat = np.array(_unpack_bytes(raw, name), dtype=object)
        else:
            dtype = np.dtype(DTYPES[datatype])
            if size != count * dtype.itemsize:
                raise InvalidInputError(f"input {name!r}: {size} bytes for shape {shape}")
            flat = np.frombuffer(raw, dtype=dtype)
    else:
        flat = _json_data(tensor.get("data"), datatype, name)
    if flat.size != count:
        raise InvalidInputError(f"input {name!r}: {flat.size} values for shape {shape}")
    return flat.reshape(shape), offset


def _json_data(data: Any, datatype: str, name: str) -> Any:
    import numpy as np

    if not isinstance(data, list):
        raise InvalidInputError(f"input {name!r}: 'data' is a list")
    flat = _flatten(data)
    if datatype == "BYTES":
        if not all(isinstance(v, str) for v in flat):
            raise InvalidInputError(f"input {name!r}: BYTES data are strings")
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out
    ok: tuple[type, ...] = (bool,) if datatype == "BOOL" else (int, float)
    if not all(isinstance(v, ok) and (datatype == "BOOL" or not isinstance(v, bool)) for v in flat):
        raise InvalidInputError(f"input {name!r}: {datatype} data are numbers")
    try:
        return np.array(flat, dtype=np.dtype(DTYPES[datatype]))
    except (OverflowError, ValueError):
        raise InvalidInputError(f"input {name!r}: a value is out of range for {datatype}") from None


def _flatten(data: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in data:
        if isinstance(value, list):
            out.extend(_flatten(value))
        else:
            out.append(value)
    return out


def _unpack_bytes(raw: bytes, name: str) -> list[str]:
    values, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise InvalidInputError(f"input {name!r}: truncated BYTES element")
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise InvalidInputError(f"input {name!r}: truncated BYTES element")
        try:
            values.append(raw[offset : offset + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidInputError(f"input {name!r}: BYTES elements are UTF-8 text") from None
        offset += length
    return values


def requested_outputs(request: Mapping[str, Any]) -> tuple[list[str] | None, set[str]]:
    """The output names asked for (``None``: the defaults) and those wanted in binary."""
    params = request.get("parameters") or {}
    binary_all = bool(isinstance(params, Mapping) and params.get("binary_data_output"))
    outputs = request.get("outputs")
    if outputs is None:
        return None, {"*"} if binary_all else set()
    if not isinstance(outputs, list) or not all(
        isinstance(o, Mapping) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise InvalidInputError("'outputs' is a list of objects with a name")
    binary = {
        o["name"] for o in outputs if (o.get("parameters") or {}).get("binary_data", binary_all)
    }
    return [o["name"] for o in outputs], binary


def encode_response(
    header: dict[str, Any], outputs: Sequence[tuple[str, Any]], binary: set[str]
) -> tuple[bytes, int | None]:
    """The response body, and the JSON header's length when some outputs are binary."""
    import numpy as np

    chunks: list[bytes] = []
    tensors = []
    for name, values in outputs:
        array = np.asarray(values)
        datatype, array = _datatype(array)
        tensor: dict[str, Any] = {"name": name, "shape": list(array.shape), "datatype": datatype}
        if name in binary or "*" in binary:
            raw = _pack(array, datatype)
            tensor["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            tensor["data"] = array.ravel().tolist()
        tensors.append(tensor)
    text = json.dumps({**header, "outputs": tensors}, separators=(",", ":")).encode()
    if not chunks:
        return text, None
    return text + b"".join(chunks), len(text)


def _datatype(array: Any) -> tuple[str, Any]:
    kind = array.dtype.kind
    if kind == "b":
        return "BOOL", array
    if kind in "iu":
        return "INT64", array.astype("<i8")
    if kind == "f":
        return "FP64", array.astype("<f8")
    return "BYTES", array.astype(str).astype(object)


def _pack(array: Any, datatype: str) -> bytes:
    if datatype != "BYTES":
        return bytes(array.tobytes())
    parts = []
    for value in array.ravel():
        data = str(value).encode("utf-8")
        parts.append(struct.pack("<I", len(data)) + data)
    return b"".join(parts)


def tensor_metadata(signature: Signature, classifier: bool) -> dict[str, Any]:
    """The ``inputs`` and ``outputs`` of a model's v2 metadata."""
    inputs = [
        {"name": c.name, "datatype": LOGICAL_TO_V2.get(c.type, "BYTES"), "shape": [-1]}
        for c in signature.inputs
    ]
    out_type = "FP64"
    if signature.outputs:
        out_type = LOGICAL_TO_V2.get(signature.outputs[0].type, "BYTES")
    outputs = [{"name": "prediction", "datatype": out_type, "shape": [-1]}]
    if classifier:
        outputs.append({"name": "probabilities", "datatype": "FP64", "shape": [-1, -1]})
    return {"inputs": inputs, "outputs": outputs}
