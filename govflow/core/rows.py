"""Model rows read by a hand-written query, turned back into model instances as the ORM
would turn them (same columns, same database converters, ``Model.from_db``).

For the few reads every request makes (the bearer token and who its holder is, the
signer's keys): compiling an ORM query costs several times more processor than running
it. The columns are listed from each model's ``_meta``, so a field added to a model is
read here too, and the converters are the backend's own, so a row reads the same on
PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model

Converter = Callable[[Any, Any, Any], Any]
M = TypeVar("M", bound=Model)


class Columns(Generic[M]):
    """The concrete columns of ``model`` under the SQL table alias ``alias``."""

    def __init__(self, model: type[M], alias: str) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        quote = connection.ops.quote_name
        self.sql = ", ".join(f"{alias}.{quote(f.column)}" for f in self.fields)
        self._converters: list[tuple[int, list[Converter], Any]] | None = None

    def __len__(self) -> int:
        return len(self.fields)

    def _converters_of(self) -> list[tuple[int, list[Converter], Any]]:
        if self._converters is None:
            found = []
            for i, field in enumerate(self.fields):
                column = field.get_col(self.model._meta.db_table)
                converters = (connection.ops.get_db_converters(column)
                              + column.get_db_converters(connection))
                if converters:
                    found.append((i, converters, column))
            self._converters = found
        return self._converters

    def instance(self, values: Sequence[Any]) -> M | None:
        """The model instance of these column values; None for a row an outer join left
        empty (no primary key)."""
        values = list(values)
        if values[self.attnames.index(self.model._meta.pk.attname)] is None:
            return None
        for i, converters, column in self._converters_of():
            for convert in converters:
                values[i] = convert(values[i], column, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def split(row: Sequence[Any], *parts: Columns[Any]) -> list[Any]:
    """Cut a row selected as ``parts[0].sql, parts[1].sql, …`` (then any extra columns)
    into one instance per part, followed by the extra values."""
    out: list[Any] = []
    at = 0
    for part in parts:
        out.append(part.instance(row[at:at + len(part)]))
        at += len(part)
    out.extend(row[at:])
    return out


def update_fields(instance: Model, names: Sequence[str]) -> None:
    """``instance.save(update_fields=names)`` as one hand-written UPDATE: the values are
    prepared by each field for the backend (``get_db_prep_save``), as the ORM does."""
    meta = instance._meta
    concrete = {f.name: f for f in meta.concrete_fields}
    fields = [concrete[name] for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    params = [f.get_db_prep_save(getattr(instance, f.attname), connection)
              for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(meta.db_table)} SET {assignments} "
                       f"WHERE {quote(meta.pk.column)} = %s", [*params, instance.pk])
        if cursor.rowcount != 1:
            raise RuntimeError(f"{meta.label} {instance.pk} was not there to update")
