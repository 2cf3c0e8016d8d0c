"""The filter language of ``search_runs`` and its translation to SQL.

::

    metrics.rmse < 0.5 and params.model = 'rf'
    (tags.team = 'core' or tags.team ILIKE 'ml%') and not status = 'failed'
    metrics.`val loss` <= 1e-3 and params.layers IN ('2', '3') and tags.note IS NULL

Fields are ``metrics.KEY`` (latest value, a number), ``params.KEY`` and
``tags.KEY`` (strings), and attributes (``id``, ``name``, ``status``, ``user``,
``type``, ``git_commit``, ``started_at``, ``ended_at``; ``attributes.`` may
prefix them). Keys with other characters go between backticks or double
quotes. Operators: ``= == != <> < <= > >= LIKE ILIKE IN NOT IN IS [NOT] NULL``,
combined with ``AND``, ``OR``, ``NOT`` and parentheses. A comparison on a
metric, param or tag holds only for runs that have that key (``IS NULL``
finds those that do not).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from loopml.core.errors import InvalidInputError
from loopml.metadata import tables

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
      | (?P<string>'(?:[^'\\]|\\.|'')*')
      | (?P<quoted>"(?:[^"\\]|\\.)*"|`[^`]*`)
      | (?P<op><=|>=|!=|<>|==|=|<|>)
      | (?P<punct>[(),.])
      | (?P<word>[A-Za-z_][\w\-/:]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "like", "ilike", "is", "null", "asc", "desc"}
_ENTITIES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
}
_ATTRIBUTES = {
    "id": "id",
    "run_id": "id",
    "name": "name",
    "run_name": "name",
    "status": "status",
    "user": "username",
    "type": "type",
    "git_commit": "git_commit",
    "started_at": "started_at",
    "start_time": "started_at",
    "ended_at": "ended_at",
    "end_time": "ended_at",
}
_TIME_ATTRIBUTES = {"started_at", "ended_at"}
_COMPARATORS = {"=", "==", "!=", "<>", "<", "<=", ">", ">=", "like", "ilike"}


@dataclasses.dataclass(frozen=True)
class Field:
    """``entity`` is metrics, params, tags or attributes; ``key`` the name within it."""

    entity: str
    key: str


@dataclasses.dataclass(frozen=True)
class Comparison:
    field: Field
    op: str
    value: Any


@dataclasses.dataclass(frozen=True)
class BoolOp:
    op: str
    items: tuple[Node, ...]


@dataclasses.dataclass(frozen=True)
class Not:
    item: Node


Node = Comparison | BoolOp | Not


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    stripped_end = len(text.rstrip())
    while position < stripped_end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidInputError(f"cannot read the filter at character {position + 1}: {text!r}")
        kind = match.lastgroup or ""
        value, start = match.group(kind), match.start(kind)
        if kind == "word" and value.lower() in _KEYWORDS:
            kind, value = "keyword", value.lower()
        tokens.append(_Token(kind, value, start))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    def fail(self, message: str) -> InvalidInputError:
        where = self.tokens[self.index].position + 1 if self.index < len(self.tokens) else "the end"
        return InvalidInputError(f"bad filter {self.text!r} at {where}: {message}")

    def peek(self, kind: str, text: str | None = None) -> bool:
        if self.index >= len(self.tokens):
            return False
        token = self.tokens[self.index]
        return token.kind == kind and (text is None or token.text == text)

    def take(self, kind: str, text: str | None = None, what: str = "") -> _Token:
        if not self.peek(kind, text):
            raise self.fail(f"expected {what or text or kind}")
        self.index += 1
        return self.tokens[self.index - 1]

    def done(self) -> bool:
        return self.index >= len(self.tokens)

    def expression(self) -> Node:
        items = [self.conjunction()]
        while self.peek("keyword", "or"):
            self.index += 1
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def conjunction(self) -> Node:
        items = [self.unary()]
        while self.peek("keyword", "and"):
            self.index += 1
            items.append(self.unary())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def unary(self) -> Node:
        if self.peek("keyword", "not"):
            self.index += 1
            return Not(self.unary())
        if self.peek("punct", "("):
            self.index += 1
            node = self.expression()
            self.take("punct", ")", "a closing parenthesis")
            return node
        return self.comparison()

    def field(self) -> Field:
        if self.done():
            raise self.fail("expected a field such as metrics.rmse")
        token = self.take("word", what="a field such as metrics.rmse or params.model")
        if self.peek("punct", "."):
            self.index += 1
            entity = _ENTITIES.get(token.text.lower())
            if entity is None:
                raise self.fail(
                    f"unknown entity {token.text!r}: use metrics, params, tags or attributes"
                )
            key = self.key()
            if entity == "attributes":
                return self.attribute(key)
            return Field(entity, key)
        return self.attribute(token.text)

    def key(self) -> str:
        if self.peek("quoted"):
            return self.take("quoted").text[1:-1]
        parts = [self.take("word", what="a key").text]
        # Dotted keys (metrics.val.loss) read as one key.
        while self.peek("punct", ".") and self.index + 1 < len(self.tokens):
            self.index += 1
            parts.append(self.take("word", what="a key").text)
        return ".".join(parts)

    def attribute(self, name: str) -> Field:
        column = _ATTRIBUTES.get(name.lower())
        if column is None:
            known = ", ".join(sorted(_ATTRIBUTES))
            raise self.fail(f"unknown attribute {name!r}; known: {known}")
        return Field("attributes", column)

    def comparison(self) -> Comparison:
        field = self.field()
        if self.peek("keyword", "is"):
            self.index += 1
            negate = self.peek("keyword", "not")
            if negate:
                self.index += 1
            self.take("keyword", "null", "NULL")
            return Comparison(field, "is not null" if negate else "is null", None)
        if self.peek("keyword", "not"):
            self.index += 1
            self.take("keyword", "in", "IN after NOT")
            return Comparison(field, "not in", self.value_list())
        if self.peek("keyword", "in"):
            self.index += 1
            return Comparison(field, "in", self.value_list())
        if self.peek("op") or self.peek("keyword", "like") or self.peek("keyword", "ilike"):
            op = self.tokens[self.index].text
            self.index += 1
            return Comparison(field, {"==": "=", "<>": "!="}.get(op, op), self.value())
        raise self.fail("expected a comparison operator (=, !=, <, <=, >, >=, LIKE, IN, IS NULL)")

    def value(self) -> float | str:
        if self.peek("number"):
            return float(self.take("number").text)
        if self.peek("string"):
            raw = self.take("string").text[1:-1]
            return raw.replace("''", "'").replace("\\'", "'")
        if self.peek("quoted") and self.tokens[self.index].text.startswith('"'):
            return self.take("quoted").text[1:-1].replace('\\"', '"')
        raise self.fail("expected a number or a quoted string")

    def value_list(self) -> tuple[float | str, ...]:
        self.take("punct", "(", "an opening parenthesis")
        values = [self.value()]
        while self.peek("punct", ","):
            self.index += 1
            values.append(self.value())
        self.take("punct", ")", "a closing parenthesis")
        return tuple(values)


def parse_filter(text: str) -> Node | None:
    """Parse a filter expression; an empty or blank text means no filter.

    Raises:
        InvalidInputError: naming the position of the first mistake.
    """
    if not text or not text.strip():
        return None
    parser = _Parser(text)
    node = parser.expression()
    if not parser.done():
        raise parser.fail("unexpected text after the expression (missing AND/OR?)")
    _check(node)
    return node


def parse_order_by(clauses: Sequence[str]) -> list[tuple[Field, bool]]:
    """Parse order clauses like ``metrics.rmse ASC``; returns (field, descending) pairs."""
    parsed = []
    for clause in clauses:
        parser = _Parser(clause)
        field = parser.field()
        descending = False
        if parser.peek("keyword", "desc") or parser.peek("keyword", "asc"):
            descending = parser.take("keyword").text == "desc"
        if not parser.done():
            raise parser.fail("an order clause is a field and an optional ASC or DESC")
        parsed.append((field, descending))
    return parsed


def _check(node: Node) -> None:
    if isinstance(node, BoolOp):
        for item in node.items:
            _check(item)
        return
    if isinstance(node, Not):
        _check(node.item)
        return
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    numeric = node.field.entity == "metrics" or node.field.key in _TIME_ATTRIBUTES
    if numeric and node.op in ("like", "ilike"):
        raise InvalidInputError(f"LIKE compares text; {node.field.key} is a number")
    for value in values:
        if value is None:
            continue
        if numeric and isinstance(value, str) and node.field.entity == "metrics":
            raise InvalidInputError(f"metrics.{node.field.key} is a number: compare it to a number")
        if not numeric and isinstance(value, float):
            raise InvalidInputError(
                f"{node.field.entity}.{node.field.key} holds text: quote the value ('{value:g}')"
            )


# --- translation to SQL -----------------------------------------------------

_SQL_OPS = {
    "=": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "like": lambda c, v: c.like(v),
    "ilike": lambda c, v: sa.func.lower(c).like(str(v).lower()),
    "in": lambda c, v: c.in_(v),
    "not in": lambda c, v: c.not_in(v),
}

_KEYED = {"metrics": tables.latest_metrics, "params": tables.params, "tags": tables.tags}


def to_sql(node: Node) -> sa.ColumnElement[bool]:
    """Translate a parsed filter into a condition on the ``executions`` table."""
    if isinstance(node, BoolOp):
        parts = [to_sql(item) for item in node.items]
        return sa.and_(*parts) if node.op == "and" else sa.or_(*parts)
    if isinstance(node, Not):
        return sa.not_(to_sql(node.item))
    field = node.field
    if field.entity == "attributes":
        column = tables.executions.c[field.key]
        value = _time_value(node.value) if field.key in _TIME_ATTRIBUTES else node.value
        if node.op == "is null":
            return column.is_(None)
        if node.op == "is not null":
            return column.is_not(None)
        condition: sa.ColumnElement[bool] = _SQL_OPS[node.op](column, value)
        return condition
    table = _KEYED[field.entity]
    owned = sa.select(table.c.execution_id).where(table.c.key == field.key)
    if node.op == "is null":
        return tables.executions.c.id.not_in(owned)
    if node.op != "is not null":
        owned = owned.where(_SQL_OPS[node.op](table.c.value, node.value))
    return tables.executions.c.id.in_(owned)


def _time_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_time_value(v) for v in value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError as exc:
            raise InvalidInputError(f"{value!r} is not an ISO date or epoch seconds") from exc
    return value
