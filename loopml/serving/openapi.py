"""OpenAPI with each served model's signature as its request schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from loopml.models import ColumnSpec, Signature
    from loopml.serving.runtime import ModelServer

_JSON_TYPES = {
    "float": {"type": "number"},
    "int": {"type": "integer"},
    "bool": {"type": "boolean"},
    "string": {"type": "string"},
    "category": {"type": "string"},
    "timestamp": {"type": "string", "format": "date-time"},
}


def column_schema(column: ColumnSpec) -> dict[str, Any]:
    """The JSON schema of one value of ``column``."""
    schema = dict(_JSON_TYPES[column.type])
    if column.nullable:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


def request_schema(signature: Signature) -> dict[str, Any]:
    """The native request body for ``signature``: records or columns."""
    row = {
        "type": "object",
        "properties": {c.name: column_schema(c) for c in signature.inputs},
        "required": signature.input_names,
        "additionalProperties": False,
    }
    columns = {
        "type": "object",
        "properties": {
            c.name: {"type": "array", "items": column_schema(c)} for c in signature.inputs
        },
        "required": signature.input_names,
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "records": {"type": "array", "items": row},
            "columns": columns,
            "probabilities": {"type": "boolean", "default": False},
        },
    }


RESPONSE = {
    "type": "object",
    "properties": {
        "request_id": {"type": "string"},
        "model": {"type": "string"},
        "version": {"type": "integer"},
        "predictions": {"type": "array", "items": {}},
        "probabilities": {"type": "array", "items": {"type": "array", "items": {}}},
        "classes": {"type": "array", "items": {}},
    },
    "required": ["request_id", "model", "version", "predictions"],
}
ERROR = {
    "type": "object",
    "properties": {
        "error_code": {"type": "string"},
        "message": {"type": "string"},
        "field": {"type": "string"},
    },
    "required": ["error_code", "message"],
}


def signature_openapi(app: FastAPI, server: ModelServer) -> dict[str, Any]:
    """The app's OpenAPI document plus one predict path per loaded deployment."""
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["PredictResponse"] = RESPONSE
    components["Error"] = ERROR
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for name, deployment in server.deployments.items():
        served = deployment.primary
        if served is None:
            continue
        ref = f"{_component(name)}Request"
        components[ref] = request_schema(served.signature)
        schema["paths"][f"/v1/models/{name}/predict"] = {
            "post": {
                "tags": ["native"],
                "summary": f"Predict with {name} ({served.model}, follows {deployment.spec.model})",
                "operationId": f"predict_{_component(name)}",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}
                    },
                },
                "responses": {
                    "200": {
                        "description": "Predictions, with the version that served them",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/PredictResponse"}
                            }
                        },
                    },
                    "400": {"description": "Malformed request", **error},
                    "422": {"description": "Input does not match the signature", **error},
                    "413": {"description": "Too large", **error},
                    "429": {"description": "Overloaded", **error},
                    "504": {"description": "Timed out", **error},
                },
            }
        }
    return schema


def _component(name: str) -> str:
    return "".join(
        part.capitalize() for part in name.replace(".", "-").replace("_", "-").split("-")
    )
