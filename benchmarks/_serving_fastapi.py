"""The serving benchmark's plain FastAPI app: the same models behind the shortest honest endpoint.

Run in loopml's virtualenv as ``python _serving_fastapi.py PORT KEY=MODEL.pkl...``:
one uvicorn worker on 127.0.0.1; ``POST /predict/{key}`` with loopml's native
columnar body ``{"columns": {"f00": [...], ...}}`` -> ``{"probabilities": [[p0, p1], ...]}``
(``predict_proba`` on a DataFrame, as a hand-written service would do it), and
``GET /ping``. No validation, no logging, no batching: what is left is FastAPI,
JSON and pandas.
"""

import pickle
import sys
from typing import Any


def build(models: dict[str, Any]) -> Any:
    import pandas as pd
    from fastapi import FastAPI, Request
    from fastapi.responses import Response

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> Response:
        return Response("ok")

    @app.post("/predict/{key}")
    async def predict(key: str, request: Request) -> Any:
        body = await request.json()
        frame = pd.DataFrame(body["columns"])
        return {"probabilities": models[key].predict_proba(frame).tolist()}

    return app


def main() -> None:
    import uvicorn

    port = int(sys.argv[1])
    models = {}
    for item in sys.argv[2:]:
        key, _, path = item.partition("=")
        with open(path, "rb") as handle:
            models[key] = pickle.load(handle)  # our own file, written by the benchmark
    uvicorn.run(build(models), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
