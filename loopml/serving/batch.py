"""Batch scoring: a registered model's predictions for a whole Parquet or CSV dataset.

:func:`predict_batch` streams the input in chunks of ``chunk_rows`` rows
(pyarrow's dataset reader: only the model's columns and the ones asked to be
carried through are read, a few batches at a time), checks every chunk
against the model's signature, and appends ``prediction`` (and one
``probability_<class>`` column per class for classifiers), ``model_name`` and
``model_version`` to a Parquet file written beside the target and renamed into
place once complete: a failure leaves no output behind. The model is loaded
through the registry (``NAME@ALIAS``, ``NAME:VERSION``), so pickle loads only
where someone opted in for that version.

:func:`predict_batch_distributed` does the same for large inputs on a
:mod:`loopml.pipelines.executors` executor (process pool, Ray, Dask): the input
is split into row-group (or file) parts, each part scored as one task writing
one ``part-NNNNN.parquet``, and the output is a folder, moved into place once
every part is written. :data:`score_batch` is the pipeline step.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidInputError
from loopml.models.errors import SignatureError
from loopml.pipelines import step, step_workspace

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds

    from loopml.models import LoadedModel
    from loopml.workspace import Workspace

DEFAULT_CHUNK_ROWS = 50_000
"""Rows scored per predict call unless told otherwise."""

PREDICTION = "prediction"
PROBABILITY = "probability_{label}"
MODEL_NAME = "model_name"
MODEL_VERSION = "model_version"
PART_NAME = "part-{index:05d}.parquet"

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}

Progress = Callable[[int], None]
"""Told the number of rows each scored chunk held."""


@dataclasses.dataclass(frozen=True)
class BatchSummary:
    """What a batch scoring run did.

    Attributes:
        model: the model's name.
        version: the version that scored every row.
        rows: rows scored.
        chunks: predict calls made (or parts written, distributed).
        output: the Parquet file (or folder) written.
        columns: the output's columns.
        seconds: wall-clock time of the run.
    """

    model: str
    version: int
    rows: int
    chunks: int
    output: str
    columns: tuple[str, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data."""
        return {**dataclasses.asdict(self), "columns": list(self.columns)}


@dataclasses.dataclass(frozen=True)
class _Scorer:
    """The model, what it is called, and what to read: everything a task needs."""

    folder: str
    allow_pickle: bool
    name: str
    version: int
    inputs: tuple[str, ...]
    passthrough: tuple[str, ...]
    chunk_rows: int


@dataclasses.dataclass(frozen=True)
class _Part:
    scorer: _Scorer
    source: str
    file_format: str
    row_groups: tuple[int, ...] | None
    target: str


def predict_batch(
    model_ref: str,
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    columns: Sequence[str] | None = None,
    workspace: Workspace | None = None,
    progress: Progress | None = None,
) -> BatchSummary:
    """Score every row of ``input`` with the model ``model_ref`` names; write ``output``.

    Args:
        model_ref: ``NAME@ALIAS``, ``NAME:VERSION`` or ``NAME`` (its latest version).
        input: a Parquet or CSV file, or a folder of Parquet files.
        output: the Parquet file to write (replaced if it exists, only on success).
        chunk_rows: rows per predict call; memory stays in proportion to it.
        columns: input columns copied to the output in front of the predictions
            (an id, say). Other columns the model does not take are not read.
        workspace: the project's workspace (the default one if omitted).
        progress: called with the row count of each chunk once it is written.

    Returns:
        A :class:`BatchSummary`.

    Raises:
        SignatureError: naming the column (and the chunk) that does not fit the model.
        InvalidInputError: if the input is not a readable Parquet/CSV dataset, or
            ``chunk_rows`` is not positive.
        NotFoundError: if the model, version or alias does not exist.
        UnsafeLoadError: if the version is pickled and nobody opted in for it.
    """
    started = time.perf_counter()
    scorer, model = _prepare(model_ref, chunk_rows, columns, workspace)
    dataset = _open(input)
    _check_columns(dataset.schema, model, scorer.passthrough)
    target = Path(output)
    _refuse_same(Path(input), target)
    rows, chunks, names = _write_atomically(
        target,
        lambda temp: _score_to_file(model, scorer, _chunks(dataset, scorer, None), temp, progress),
    )
    return BatchSummary(
        scorer.name, scorer.version, rows, chunks, str(target), names, _since(started)
    )


def predict_batch_distributed(
    model_ref: str,
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    executor: Any = "process",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    columns: Sequence[str] | None = None,
    workspace: Workspace | None = None,
    progress: Progress | None = None,
) -> BatchSummary:
    """Score ``input`` as parallel tasks on an executor; write ``output`` as a Parquet folder.

    The input is split into parts: groups of Parquet row groups of about
    ``chunk_rows`` rows, or whole files for CSV. Each part is one task that loads
    the model from the package folder the driver exported (so workers must see this
    machine's files) and writes one ``part-NNNNN.parquet``; a retried task rewrites
    its own part. The folder is moved into place once every part is written.

    Args:
        model_ref: as for :func:`predict_batch`.
        input: a Parquet or CSV file, or a folder of them.
        output: the folder to write (replaced if it exists, only on success).
        executor: an :class:`~loopml.pipelines.executors.Executor`, or a URI for
            :func:`~loopml.pipelines.executors.executor_from_uri` (started and shut down here).
        chunk_rows: rows per predict call inside a task, and the size parts aim at.
        columns: input columns copied to the output, as for :func:`predict_batch`.
        workspace: the project's workspace (the default one if omitted).
        progress: called with the row count of each part once it is written.

    Returns:
        A :class:`BatchSummary` whose ``chunks`` is the number of parts.

    Raises:
        The errors of :func:`predict_batch`; a task's error comes back as itself.
    """
    from loopml.pipelines.executors import Executor, executor_from_uri

    started = time.perf_counter()
    scorer, model = _prepare(model_ref, chunk_rows, columns, workspace)
    dataset = _open(input)
    _check_columns(dataset.schema, model, scorer.passthrough)
    target = Path(output)
    _refuse_same(Path(input), target)
    owned = not isinstance(executor, Executor)
    engine = executor_from_uri(executor) if owned else executor

    def write(stage: str) -> tuple[int, int, tuple[str, ...]]:
        parts = [
            _Part(scorer, source, fmt, groups, os.path.join(stage, PART_NAME.format(index=i)))
            for i, (source, fmt, groups) in enumerate(_split(dataset, chunk_rows))
        ]
        return _run_parts(engine, parts, progress)

    try:
        rows, chunks, names = _write_atomically(target, write, folder=True)
    finally:
        if owned:
            engine.shutdown(wait=True)
    return BatchSummary(
        scorer.name, scorer.version, rows, chunks, str(target), names, _since(started)
    )


@step(cache=False)
def score_batch(
    model: str,
    input: str,
    output: str,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    columns: list[str] | None = None,
) -> dict[str, Any]:
    """Pipeline step: :func:`predict_batch` in the run's workspace; returns the summary.

    Never served from cache: the alias may have moved, or the input changed in place.
    """
    summary = predict_batch(
        model, input, output, chunk_rows=chunk_rows, columns=columns, workspace=step_workspace()
    )
    return summary.to_dict()


def _prepare(
    model_ref: str, chunk_rows: int, columns: Sequence[str] | None, workspace: Workspace | None
) -> tuple[_Scorer, LoadedModel]:
    from loopml.registry.actions import ModelRegistry

    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise InvalidInputError(f"chunk_rows is a positive number of rows, not {chunk_rows!r}")
    passthrough = tuple(columns or ())
    registry = ModelRegistry(workspace)
    version = registry.resolve(model_ref)
    # Load by number, not by alias: the alias may move while the batch runs.
    model = registry.load_model(f"{version.model}:{version.version}")
    reserved = set(_prediction_names(model)) | {MODEL_NAME, MODEL_VERSION}
    clash = [name for name in passthrough if name in reserved]
    if clash:
        raise InvalidInputError(f"column {clash[0]!r} would clash with an output column")
    scorer = _Scorer(
        folder=str(model.path),
        allow_pickle=registry.is_pickle_trusted(version.model, version.version),
        name=version.model,
        version=version.version,
        inputs=tuple(model.signature.input_names),
        passthrough=passthrough,
        chunk_rows=chunk_rows,
    )
    return scorer, model


def _open(source: str | os.PathLike[str]) -> ds.Dataset:
    import pyarrow as pa
    import pyarrow.dataset as pads

    path = Path(source)
    if not path.exists():
        raise InvalidInputError(f"no input at {str(path)!r}")
    file_format = _format(path)
    try:
        return pads.dataset(str(path), format=file_format)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(f"cannot read {str(path)!r} as {file_format}: {exc}") from exc


def _format(path: Path) -> str:
    if path.is_dir():
        suffixes = {_FORMATS.get(p.suffix.lower()) for p in path.iterdir() if p.is_file()}
        return "csv" if suffixes == {"csv"} else "parquet"
    found = _FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidInputError(f"{str(path)!r} is neither Parquet (.parquet, .pq) nor CSV (.csv)")
    return found


def _check_columns(schema: pa.Schema, model: LoadedModel, passthrough: tuple[str, ...]) -> None:
    """Refuse a missing column before anything is read or written."""
    present = set(schema.names)
    for name in model.signature.input_names:
        if name not in present:
            raise SignatureError(f"input column {name!r} is missing", field=name)
    for name in passthrough:
        if name not in present:
            raise InvalidInputError(f"column {name!r} to carry through is not in the input")


def _refuse_same(source: Path, target: Path) -> None:
    if target.exists() and source.resolve() == target.resolve():
        raise InvalidInputError("the output would overwrite the input: write it elsewhere")


def _chunks(
    dataset: ds.Dataset, scorer: _Scorer, fragments: Sequence[Any] | None
) -> Iterator[pa.Table]:
    """Tables of exactly ``chunk_rows`` rows (the last one shorter), in input order."""
    import pyarrow as pa

    wanted = list(dict.fromkeys([*scorer.passthrough, *scorer.inputs]))
    if fragments is None:
        batches = dataset.to_batches(
            columns=wanted, batch_size=scorer.chunk_rows, batch_readahead=2, fragment_readahead=1
        )
    else:
        batches = (
            batch
            for fragment in fragments
            for batch in fragment.to_batches(columns=wanted, batch_size=scorer.chunk_rows)
        )
    pending: list[pa.RecordBatch] = []
    count = 0
    for whole in _readable(batches):
        batch = whole
        while batch.num_rows:
            take = min(scorer.chunk_rows - count, batch.num_rows)
            pending.append(batch.slice(0, take))
            count += take
            batch = batch.slice(take)
            if count == scorer.chunk_rows:
                yield pa.Table.from_batches(pending)
                pending, count = [], 0
    if count:
        yield pa.Table.from_batches(pending)


def _readable(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The batches; a value the reader cannot parse (a CSV cell past inference) is bad input."""
    import pyarrow as pa

    try:
        yield from batches
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInputError(f"cannot read the input: {exc}") from exc


def _score_to_file(
    model: LoadedModel,
    scorer: _Scorer,
    chunks: Iterator[pa.Table],
    path: str,
    progress: Progress | None,
) -> tuple[int, int, tuple[str, ...]]:
    """Score each chunk and append it to a Parquet file; return rows, chunks and columns."""
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    rows = count = 0
    try:
        for chunk in chunks:
            scored = _score(model, scorer, chunk, first_row=rows)
            if writer is None:
                writer = pq.ParquetWriter(path, scored.schema)
            writer.write_table(scored)
            rows += chunk.num_rows
            count += 1
            if progress is not None:
                progress(chunk.num_rows)
        if writer is None:  # no rows: an empty file that still has the output's columns
            empty = _score(model, scorer, None, first_row=0)
            writer = pq.ParquetWriter(path, empty.schema)
            writer.write_table(empty)
        names = tuple(writer.schema.names)
    finally:
        if writer is not None:
            writer.close()
    return rows, count, names


def _score(model: LoadedModel, scorer: _Scorer, chunk: pa.Table | None, first_row: int) -> Any:
    """Predictions for one chunk as an Arrow table (for ``None``: no rows, right types)."""
    import pyarrow as pa

    if chunk is None:
        example = model.example().iloc[:1]
        table = pa.Table.from_pandas(example, preserve_index=False).slice(0, 0)
        frame = example
    else:
        table = chunk
        frame = chunk.select(list(model.signature.input_names)).to_pandas()
    try:
        predictions = model.predict(frame)
        probabilities = (
            model.predict_proba(frame) if model.manifest.task == "classification" else None
        )
    except SignatureError as exc:
        last = first_row + (chunk.num_rows if chunk is not None else 0) - 1
        raise SignatureError(f"rows {first_row}-{last}: {exc.message}", field=exc.field) from None
    keep = 0 if chunk is None else len(frame)
    columns: dict[str, Any] = {name: table.column(name) for name in scorer.passthrough}
    columns[PREDICTION] = pa.array(predictions[:keep])
    if probabilities is not None:
        for label, values in zip(_prediction_names(model)[1:], probabilities.T, strict=True):
            columns[label] = pa.array(values[:keep])
    columns[MODEL_NAME] = pa.array([scorer.name] * keep, pa.string())
    columns[MODEL_VERSION] = pa.array([scorer.version] * keep, pa.int64())
    return pa.table(columns)


def _prediction_names(model: LoadedModel) -> list[str]:
    names = [PREDICTION]
    if model.manifest.task == "classification":
        names += [PROBABILITY.format(label=label) for label in model.manifest.classes or ()]
    return names


def _split(
    dataset: ds.Dataset, chunk_rows: int
) -> Iterator[tuple[str, str, tuple[int, ...] | None]]:
    """Parts of the input: (file, format, row groups or None for the whole file)."""
    for fragment in dataset.get_fragments():
        path = fragment.path
        if dataset.format.default_extname != "parquet":
            yield path, "csv", None
            continue
        group: list[int] = []
        rows = 0
        for row_group in fragment.row_groups:
            group.append(row_group.id)
            rows += row_group.num_rows
            if rows >= chunk_rows:
                yield path, "parquet", tuple(group)
                group, rows = [], 0
        if group or not fragment.row_groups:
            yield path, "parquet", tuple(group)


def _run_parts(
    engine: Any, parts: list[_Part], progress: Progress | None
) -> tuple[int, int, tuple[str, ...]]:
    from concurrent.futures import FIRST_EXCEPTION, wait

    futures = [engine.submit(score_part, part) for part in parts]
    pending = set(futures)
    while pending:
        done, pending = wait(pending, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                for other in pending:
                    engine.cancel(other)
                raise future.exception()  # type: ignore[misc]
            if progress is not None:
                progress(future.result()[0])
    results = [future.result() for future in futures]
    names = results[0][1] if results else ()
    return sum(rows for rows, _ in results), len(parts), names


def score_part(part: _Part) -> tuple[int, tuple[str, ...]]:
    """Score one part of a distributed run (a task: runs in a worker); return rows and columns.

    The part file is written under a temporary name and renamed, so a retried task
    replaces its own part and a failed one leaves none.
    """
    import pyarrow.dataset as pads

    from loopml.models import read_package

    model = read_package(part.scorer.folder, allow_pickle=part.scorer.allow_pickle)
    dataset = pads.dataset(part.source, format=part.file_format)
    fragments: list[Any] = list(dataset.get_fragments())
    if part.row_groups is not None:
        fragments = [fragments[0].subset(row_group_ids=list(part.row_groups))]
    temp = f"{part.target}.{uuid.uuid4().hex}.tmp"
    try:
        rows, _, names = _score_to_file(
            model, part.scorer, _chunks(dataset, part.scorer, fragments), temp, None
        )
        os.replace(temp, part.target)
    finally:
        if os.path.exists(temp):
            os.remove(temp)
    return rows, names


def _write_atomically(
    target: Path,
    write: Callable[[str], tuple[int, int, tuple[str, ...]]],
    *,
    folder: bool = False,
) -> tuple[int, int, tuple[str, ...]]:
    """Write through a temporary file (or folder) beside ``target``, renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if folder:
        temp = tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    else:
        handle, temp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
        os.close(handle)
    try:
        result = write(temp)
        if folder and target.is_dir():
            old = f"{temp}.old"
            os.replace(target, old)
            os.replace(temp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temp, target)
    finally:
        if os.path.isdir(temp):
            shutil.rmtree(temp, ignore_errors=True)
        elif os.path.exists(temp):
            os.remove(temp)
    return result


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 6)
