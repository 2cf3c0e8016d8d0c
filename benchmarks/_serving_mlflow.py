"""The serving benchmark's MLflow side: save the same fitted models as MLflow models.

Run inside MLflow's virtualenv by ``serving.py`` (same scikit-learn version as
loopml's, so the pickled models load unchanged). Reads
``{"models": {key: pickle path}, "example": parquet path, "out": folder}`` as
JSON on stdin, saves each model with ``mlflow.sklearn.save_model`` (skops,
``predict_proba`` as the pyfunc method, a signature, pinned requirements so
nothing is inferred) and prints ``{"version", "paths": {key: folder}}`` as JSON
on the last line. ``serving.py`` then starts ``mlflow models serve`` on each
folder. Never imports loopml.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path


def main() -> None:
    import mlflow
    import pandas as pd
    import sklearn
    from mlflow.models import infer_signature

    config = json.load(sys.stdin)
    example = pd.read_parquet(config["example"])
    paths = {}
    for key, source in config["models"].items():
        with open(source, "rb") as handle:
            model = pickle.load(handle)  # written by serving.py a moment ago
        target = Path(config["out"]) / key
        mlflow.sklearn.save_model(
            model,
            str(target),
            serialization_format="skops",
            skops_trusted_types=["sklearn.tree._tree.Tree"],
            pyfunc_predict_fn="predict_proba",
            signature=infer_signature(example, model.predict_proba(example)),
            pip_requirements=[f"scikit-learn=={sklearn.__version__}", "skops"],
        )
        paths[key] = str(target)
        print(f"saved {key} as an MLflow model", file=sys.stderr)
    print(json.dumps({"version": mlflow.__version__, "paths": paths}))


if __name__ == "__main__":
    main()
