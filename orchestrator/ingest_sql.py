"""Bulk SQL for ingestion that the ORM cannot express: multi-row
`INSERT ... ON CONFLICT DO NOTHING` that reports which rows it inserted, and
many-row updates, on PostgreSQL and SQLite alike.

Values arrive in Python form (UUID, aware datetime, JSON *text* for JSON
columns); `Table` adapts them per column for the connection's vendor. On
PostgreSQL each column travels as one binary array parameter (`unnest`), so a
statement of thousands of rows costs a few parameters, not tens of thousands.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Callable

from django.db import connection, models

# Bound parameters per statement: SQLite allows 32,766 and PostgreSQL 65,535.
MAX_PARAMS = 30_000


def _identity(value: Any) -> Any:
    return value


class Table:
    """A model's table with the columns one statement writes, adapted for the current vendor."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        self.model = model
        self.db_table = model._meta.db_table
        self.fields = [model._meta.get_field(name) for name in columns]
        self.columns = [f.column for f in self.fields]
        self.pk_column = model._meta.pk.column
        self.adapters = [self._adapter(f) for f in self.fields]
        self.placeholders = [self._placeholder(f) for f in self.fields]
        self.postgresql = connection.vendor == "postgresql"
        if self.postgresql:
            self.array_types = [self._array_type(f) for f in self.fields]

    @staticmethod
    def _array_type(field: models.Field) -> str:
        if isinstance(field, models.JSONField):
            return "text[]"  # JSON text, cast to jsonb in the select list
        return field.db_type(connection) + "[]"

    def _unnest(self, columns: Sequence[str], types: Sequence[str]) -> str:
        """`(SELECT <cols, jsonb cast> FROM unnest(%s::t[], ...) AS v(<cols>))` for the given columns."""
        q = connection.ops.quote_name
        names = ", ".join(q(c) for c in columns)
        select = ", ".join(f"v.{q(c)}::jsonb" if t == "text[]" and c in self._json_columns else f"v.{q(c)}"
                           for c, t in zip(columns, types))
        arrays = ", ".join(f"%b::{t}" for t in types)
        return f"SELECT {select} FROM unnest({arrays}) AS v({names})"

    @property
    def _json_columns(self) -> set[str]:
        return {f.column for f in self.fields if isinstance(f, models.JSONField)}

    def _raw_cursor(self):
        """A server-side-binding psycopg cursor: arrays go over the wire in binary."""
        import psycopg

        connection.ensure_connection()
        return psycopg.Cursor(connection.connection)

    @staticmethod
    def _adapter(field: models.Field) -> Callable[[Any], Any]:
        vendor = connection.vendor
        if isinstance(field, (models.UUIDField, models.ForeignKey)) and vendor != "postgresql":
            target = field.target_field if isinstance(field, models.ForeignKey) else field
            if isinstance(target, models.UUIDField):
                return lambda v: v.hex if isinstance(v, uuid.UUID) else v
        if isinstance(field, models.DateTimeField) and vendor != "postgresql":
            return connection.ops.adapt_datetimefield_value
        return _identity

    @staticmethod
    def _placeholder(field: models.Field) -> str:
        if isinstance(field, models.JSONField) and connection.vendor == "postgresql":
            return "%s::jsonb"  # values are JSON text already
        return "%s"

    def adapt(self, row: Sequence[Any]) -> list[Any]:
        return [adapt(value) for adapt, value in zip(self.adapters, row)]

    def insert_ignoring_conflicts(self, rows: Sequence[Sequence[Any]], returning: bool = True) -> set:
        """Insert rows, skipping those whose unique keys exist; return the pks inserted.

        Rows should be sorted by key, so concurrent batches wait on each other in
        one order and never deadlock.
        """
        if not rows:
            return set()
        if self.postgresql:
            return self._insert_postgresql(rows, returning)
        q = connection.ops.quote_name
        cols = ", ".join(q(c) for c in self.columns)
        row_sql = "(" + ", ".join(self.placeholders) + ")"
        per_statement = max(1, MAX_PARAMS // len(self.columns))
        can_return = returning and connection.features.can_return_rows_from_bulk_insert
        inserted: set = set()
        if returning and not can_return:
            # Old SQLite without RETURNING: writers are serialised (BEGIN IMMEDIATE), so reading first is exact.
            pk_index = self.columns.index(self.pk_column)
            existing = self.existing_keys([r[pk_index] for r in rows])
            inserted = {r[pk_index] for r in rows} - existing
        with connection.cursor() as cursor:
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                params = [v for row in chunk for v in self.adapt(row)]
                sql = f"INSERT INTO {q(self.db_table)} ({cols}) VALUES {', '.join([row_sql] * len(chunk))} ON CONFLICT DO NOTHING"
                if can_return:
                    sql += f" RETURNING {q(self.pk_column)}"
                cursor.execute(sql, params)
                if can_return:
                    pk_field = self.model._meta.pk
                    inserted.update(_from_db(pk_field, r[0]) for r in cursor.fetchall())
        return inserted

    def _insert_postgresql(self, rows: Sequence[Sequence[Any]], returning: bool) -> set:
        q = connection.ops.quote_name
        cols = ", ".join(q(c) for c in self.columns)
        sql = f"INSERT INTO {q(self.db_table)} ({cols}) {self._unnest(self.columns, self.array_types)} ON CONFLICT DO NOTHING"
        if returning:
            sql += f" RETURNING {q(self.pk_column)}"
        with self._raw_cursor() as cursor:
            cursor.execute(sql, [list(column) for column in zip(*rows)])
            return {r[0] for r in cursor.fetchall()} if returning else set()

    def existing_keys(self, keys: Iterable[Any]) -> set:
        keys = list(keys)
        pk = self.model._meta.pk.name
        found: set = set()
        for start in range(0, len(keys), MAX_PARAMS):
            found.update(
                self.model._base_manager.filter(**{f"{pk}__in": keys[start : start + MAX_PARAMS]}).values_list(pk, flat=True)
            )
        return found

    def update_by_pk(self, rows: Sequence[Sequence[Any]]) -> None:
        """`UPDATE ... SET <columns> WHERE pk = <last value of the row>` for every row."""
        if not rows:
            return
        q = connection.ops.quote_name
        if self.postgresql:
            pk_type = self.model._meta.pk.db_type(connection) + "[]"
            key = "__pk"
            source = self._unnest([*self.columns, key], [*self.array_types, pk_type])
            assignments = ", ".join(f"{q(c)} = v.{q(c)}" for c in self.columns)
            sql = f"UPDATE {q(self.db_table)} AS t SET {assignments} FROM ({source}) AS v WHERE t.{q(self.pk_column)} = v.{q(key)}"
            with self._raw_cursor() as cursor:
                cursor.execute(sql, [list(column) for column in zip(*rows)])
            return
        assignments = ", ".join(f"{q(c)} = {p}" for c, p in zip(self.columns, self.placeholders))
        sql = f"UPDATE {q(self.db_table)} SET {assignments} WHERE {q(self.pk_column)} = %s"
        pk_adapter = self._adapter(self.model._meta.pk)
        params = [self.adapt(row[:-1]) + [pk_adapter(row[-1])] for row in rows]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _from_db(field: models.Field, value: Any) -> Any:
    if isinstance(field, models.UUIDField) and not isinstance(value, uuid.UUID):
        return uuid.UUID(value)
    return value
