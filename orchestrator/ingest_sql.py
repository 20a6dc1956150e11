"""Bulk SQL for ingestion that the ORM cannot express, on PostgreSQL and SQLite:
multi-row `INSERT ... ON CONFLICT DO NOTHING` that reports the keys it inserted,
`SELECT ... FOR UPDATE` of many keys in key order, and many-row updates.

Values arrive in Python form: canonical UUID *strings*, aware datetimes, JSON
*text* for JSON columns. On PostgreSQL each column travels as one binary array
parameter (`unnest`), and statements are sent in a pipeline: a `PipelinedResult`
is only waited for when read, so independent statements share one round
trip. The statements are prepared on the server (each connection parses and
plans each kind once, not once per batch). On SQLite statements run at once.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models

# Bound parameters per SQLite statement (its limit is 32,766).
MAX_SQLITE_PARAMS = 30_000

_SQL: dict[tuple, str] = {}  # Table._sql


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def pipeline() -> Iterator[None]:
    """Statements inside are pipelined on PostgreSQL (results fetched when read)."""
    if not is_postgresql():
        yield
        return
    connection.ensure_connection()
    conn = connection.connection
    threshold = conn.prepare_threshold  # Django's default: None, nothing prepared
    conn.prepare_threshold = 0  # lets Table's statements be server-side prepared (`prepare=True`)
    try:
        with conn.pipeline():
            yield
    finally:
        conn.prepare_threshold = threshold


def _sqlite_uuid(value: str) -> str:
    return value.replace("-", "")  # Django stores UUIDs as 32 hex digits on SQLite


def _sqlite_datetime(value: datetime) -> str:
    # What Django's SQLite adapter stores (naive UTC, str()), without its per-value dispatch.
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return str(value)


class PipelinedResult:
    """A statement's result, fetched (ending the pipeline's current round trip) on first read."""

    def __init__(self, cursor: Any = None, convert: Callable[[Any], Any] = list, value: Any = None) -> None:
        self._cursor, self._convert, self._value = cursor, convert, value
        self._source: PipelinedResult | None = None

    def result(self) -> Any:
        if self._cursor is not None:
            rows = self._cursor.fetchall()
            self._cursor, self._value = None, self._convert(rows)
        elif self._source is not None:
            self._value, self._source = self._convert(self._source.result()), None
        return self._value

    def map(self, convert: Callable[[Any], Any]) -> PipelinedResult:
        """A PipelinedResult of `convert(this result)`, computed when read."""
        mapped = PipelinedResult(convert=convert)
        mapped._source = self
        return mapped


def canonical_uuid(value: Any) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


_LAYOUTS: dict[tuple, tuple] = {}


class Table:
    """A model's table and the columns one statement writes."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        key = (model, tuple(columns))
        layout = _LAYOUTS.get(key)
        if layout is None:  # worked out once per process: a batch makes a dozen tables
            fields = [model._meta.get_field(name) for name in columns]
            is_uuid = [_is_uuid(f) for f in fields]
            layout = _LAYOUTS[key] = (
                fields, [f.column for f in fields], model._meta.pk, is_uuid,
                [isinstance(f, models.JSONField) for f in fields],
                [_sqlite_uuid if is_uuid[i] else _sqlite_datetime if isinstance(f, models.DateTimeField) else None
                 for i, f in enumerate(fields)],
            )
        self.model = model
        self.fields, self.columns, self.pk, self.is_uuid, self.is_json, self.sqlite_converters = layout

    def _sql(self, kind: tuple, build: Callable[[], str]) -> str:
        """The SQL of one kind of statement on these columns, built once per process (building it
        costs about as much as dumping the values of a small batch)."""
        key = (connection.vendor, self.model, tuple(self.columns), *kind)
        sql = _SQL.get(key)
        if sql is None:
            sql = _SQL[key] = build()
        return sql

    # --- PostgreSQL: binary arrays through unnest ---

    def _array_type(self, index: int) -> str:
        if self.is_uuid[index] or self.is_json[index]:
            return "text[]"  # cast per element in the select list
        return self.fields[index].db_type(connection) + "[]"

    def _unnest(self, extra_key: bool = False) -> str:
        q = connection.ops.quote_name
        names, select, arrays = [], [], []
        for i, column in enumerate(self.columns):
            names.append(q(column))
            cast = "::uuid" if self.is_uuid[i] else "::jsonb" if self.is_json[i] else ""
            select.append(f"v.{q(column)}{cast}" + (f" AS {q(column)}" if cast else ""))
            arrays.append(f"%b::{self._array_type(i)}")
        if extra_key:
            names.append('"__key"')
            select.append('v."__key"::uuid AS "__key"' if _is_uuid(self.pk) else 'v."__key"')
            arrays.append("%b::text[]" if _is_uuid(self.pk) else f"%b::{self.pk.db_type(connection)}[]")
        return f"SELECT {', '.join(select)} FROM unnest({', '.join(arrays)}) AS v({', '.join(names)})"

    @staticmethod
    def _cursor():
        import psycopg

        connection.ensure_connection()
        return psycopg.Cursor(connection.connection)  # server-side binding: arrays travel in binary

    def _pk_select(self) -> str:
        q = connection.ops.quote_name
        return f"{q(self.pk.column)}::text" if _is_uuid(self.pk) else q(self.pk.column)

    # --- SQLite: plain parameters ---

    def _sqlite_row(self, row: Sequence[Any]) -> list[Any]:
        return [v if c is None or v is None else c(v) for c, v in zip(self.sqlite_converters, row)]

    def _from_sqlite_key(self, value: Any) -> Any:
        return canonical_uuid(value) if _is_uuid(self.pk) else value

    # --- statements ---

    def insert(self, rows: Sequence[Sequence[Any]], returning: bool = True) -> PipelinedResult:
        """Insert rows, skipping those that hit a unique key; `.result()` is the set of pks inserted.

        Rows should be sorted by key, so concurrent batches wait on each other in
        one order and never deadlock.
        """
        if not rows:
            return PipelinedResult(value=set())
        if is_postgresql():
            sql = self._sql(("insert", returning), lambda: self._insert_sql(returning))
            cursor = self._cursor()
            cursor.execute(sql, [list(column) for column in zip(*rows)], prepare=True)
            if not returning:
                return PipelinedResult(value=set())
            return PipelinedResult(cursor, lambda fetched: {r[0] for r in fetched})
        return PipelinedResult(value=self._insert_sqlite(rows, returning))

    def _into(self) -> str:
        q = connection.ops.quote_name
        return f"INSERT INTO {q(self.model._meta.db_table)} ({', '.join(q(c) for c in self.columns)})"

    def _insert_sql(self, returning: bool) -> str:
        sql = f"{self._into()} {self._unnest()} ON CONFLICT DO NOTHING"
        return sql + f" RETURNING {self._pk_select()}" if returning else sql

    def _insert_sqlite(self, rows: Sequence[Sequence[Any]], returning: bool) -> set:
        q = connection.ops.quote_name
        into = self._into()
        can_return = returning and connection.features.can_return_rows_from_bulk_insert
        inserted: set = set()
        if returning and not can_return:
            # SQLite before 3.35 has no RETURNING; writers are serialised (BEGIN IMMEDIATE), so reading first is exact.
            pk_index = self.columns.index(self.pk.column)
            keys = [r[pk_index] for r in rows]
            inserted = set(keys) - self.existing_keys(keys)
        row_sql = "(" + ", ".join(["%s"] * len(self.columns)) + ")"
        per_statement = max(1, MAX_SQLITE_PARAMS // len(self.columns))
        with connection.cursor() as cursor:
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                sql = f"{into} VALUES {', '.join([row_sql] * len(chunk))} ON CONFLICT DO NOTHING"
                if can_return:
                    sql += f" RETURNING {q(self.pk.column)}"
                cursor.execute(sql, [v for row in chunk for v in self._sqlite_row(row)])
                if can_return:
                    inserted.update(self._from_sqlite_key(r[0]) for r in cursor.fetchall())
        return inserted

    def existing_keys(self, keys: Sequence[Any]) -> set:
        name = self.pk.name
        found: set = set()
        for start in range(0, len(keys), MAX_SQLITE_PARAMS):
            chunk = keys[start : start + MAX_SQLITE_PARAMS]
            found.update(self.model._base_manager.filter(**{f"{name}__in": chunk}).values_list(name, flat=True))
        return {self._from_sqlite_key(k) for k in found}

    def select(self, keys: Sequence[Any], columns: Sequence[str], *, by: str | None = None, lock: bool = False) -> PipelinedResult:
        """Rows whose `by` column (default: the pk) is in keys, in key order, optionally locked
        FOR UPDATE; `.result()` is a list of dicts with UUIDs as canonical strings."""
        if not keys:
            return PipelinedResult(value=[])
        by_field = self.model._meta.get_field(by) if by else self.pk
        fields = [self.model._meta.get_field(c) for c in columns]
        if not is_postgresql():  # SQLite: no row locks; writers are serialised by BEGIN IMMEDIATE
            rows = self.model._base_manager.filter(**{f"{by_field.name}__in": list(keys)}).order_by(by_field.name)
            return PipelinedResult(value=[
                {c: (canonical_uuid(v) if v is not None and _is_uuid(f) else v) for (c, v), f in zip(r.items(), fields)}
                for r in rows.values(*columns)
            ])

        def build() -> str:
            q = connection.ops.quote_name
            select = ", ".join(f"{q(f.column)}::text" if _is_uuid(f) else q(f.column) for f in fields)
            key_type = "uuid" if _is_uuid(by_field) else by_field.db_type(connection)
            sql = (
                f"SELECT {select} FROM {q(self.model._meta.db_table)} "
                f"WHERE {q(by_field.column)} = ANY(%b::text[]::{key_type}[]) ORDER BY {q(by_field.column)}"
            )
            return sql + " FOR UPDATE" if lock else sql

        sql = self._sql(("select", by_field.column, tuple(columns), lock), build)
        cursor = self._cursor()
        cursor.execute(sql, [list(map(str, keys))], prepare=True)
        return PipelinedResult(cursor, lambda fetched: [dict(zip(columns, r)) for r in fetched])

    def update(self, rows: Sequence[Sequence[Any]]) -> None:
        """`UPDATE ... SET <columns> WHERE pk = <last value of each row>`; the rows must be locked already."""
        if not rows:
            return
        q = connection.ops.quote_name
        table = q(self.model._meta.db_table)
        if is_postgresql():
            sql = self._sql(("update",), lambda: (
                f"UPDATE {table} AS t SET {', '.join(f'{q(c)} = v.{q(c)}' for c in self.columns)} "
                f'FROM ({self._unnest(extra_key=True)}) AS v WHERE t.{q(self.pk.column)} = v."__key"'
            ))
            cursor = self._cursor()
            cursor.execute(sql, [list(column) for column in zip(*rows)], prepare=True)
            return
        assignments = ", ".join(f"{q(c)} = %s" for c in self.columns)
        sql = f"UPDATE {table} SET {assignments} WHERE {q(self.pk.column)} = %s"
        pk_is_uuid = _is_uuid(self.pk)
        params = [
            self._sqlite_row(row[:-1]) + [row[-1].replace("-", "") if pk_is_uuid else row[-1]] for row in rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _is_uuid(field: models.Field) -> bool:
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    return isinstance(target, models.UUIDField)

