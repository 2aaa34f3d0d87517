"""The checkpointer of a run: SQLite, with teachgraph's state types on LangGraph's allow-list.

LangGraph checkpoints state with msgpack and rebuilds pydantic models, enums and dataclasses by
module and class name. Types that are not on the serializer's ``allowed_msgpack_modules`` list
are still rebuilt today, with the warning "Deserializing unregistered type ... This will be
blocked in a future version"; under ``LANGGRAPH_STRICT_MSGPACK=true`` (the future default) they
come back as plain dicts, and a resumed run would break. So every type reachable from the state
schemas of the episode and teacher graphs is registered explicitly, found by walking the
schemas' type hints: a new field in a state (or a custom teacher graph with its own state)
registers its types without anyone keeping a list.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import types
from collections.abc import Iterable
from enum import Enum
from typing import Annotated, Any, NotRequired, Required, Union, get_args, get_origin, get_type_hints

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel
from typing_extensions import is_typeddict

from teachgraph.state import EpisodeState, TeacherInput, TeacherOutput, TeacherState

TypeKey = tuple[str, str]

# The records lived in ``teachgraph.graphs.state`` before they moved to ``teachgraph.state``;
# checkpoints written then name them by the old module, which still re-exports them.
_MOVED_MODULES = {"teachgraph.state": "teachgraph.graphs.state"}


def state_types(schemas: Iterable[Any]) -> set[TypeKey]:
    """``(module, class name)`` of every pydantic model, enum and dataclass a schema can hold.

    ``schemas`` are state schemas (TypedDicts, pydantic models, dataclasses); their fields'
    annotations are followed through containers, unions, ``Annotated`` and nested models.
    """
    found: set[TypeKey] = set()
    seen: list[Any] = []  # the objects themselves: ids of temporary aliases get reused
    for schema in schemas:
        _collect(schema, found, seen)
    return found


def _collect(typ: Any, found: set[TypeKey], seen: list[Any]) -> None:
    if typ is None or typ is Any or any(typ is s for s in seen):
        return
    seen.append(typ)
    origin = get_origin(typ)
    if isinstance(typ, types.UnionType) or origin in (Union, Annotated, Required, NotRequired):
        args = get_args(typ)
        for arg in args[:1] if origin is Annotated else args:
            _collect(arg, found, seen)
        return
    if origin is not None:  # list[X], dict[K, V], tuple[...], Literal[...] (its args are values)
        for arg in get_args(typ):
            if isinstance(arg, type) or get_origin(arg) is not None:
                _collect(arg, found, seen)
        return
    if not isinstance(typ, type):
        return
    if issubclass(typ, Enum):
        found.add((typ.__module__, typ.__name__))
    elif issubclass(typ, BaseModel) or dataclasses.is_dataclass(typ):
        found.add((typ.__module__, typ.__name__))
        for hint in _hints(typ).values():
            _collect(hint, found, seen)
    elif is_typeddict(typ):
        for hint in _hints(typ).values():
            _collect(hint, found, seen)


def _hints(typ: type) -> dict[str, Any]:
    try:
        return get_type_hints(typ, include_extras=True)
    except Exception:  # an unresolvable forward reference: fall back to what pydantic resolved
        fields = getattr(typ, "model_fields", {})
        return {name: f.annotation for name, f in fields.items()}


def episode_state_types(*extra_schemas: Any) -> set[TypeKey]:
    """The types checkpointed by an episode: its state, the teacher's, and ``extra_schemas``
    (e.g. the state schema of a custom teacher graph)."""
    found = state_types([EpisodeState, TeacherState, TeacherInput, TeacherOutput, *extra_schemas])
    return found | {(_MOVED_MODULES[m], name) for m, name in found if m in _MOVED_MODULES}


def serializer(*extra_schemas: Any) -> JsonPlusSerializer:
    """LangGraph's serializer with the episode's state types on its msgpack allow-list."""
    return JsonPlusSerializer(allowed_msgpack_modules=sorted(episode_state_types(*extra_schemas)))


def sqlite_checkpointer(conn: sqlite3.Connection, *extra_schemas: Any) -> SqliteSaver:
    """The SQLite checkpointer a run directory uses, with :func:`serializer`."""
    return SqliteSaver(conn, serde=serializer(*extra_schemas))
