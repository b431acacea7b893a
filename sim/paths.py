"""Dotted paths (``providers.openai.price.multiplier``, ``market.open_gap.0.elo``): the one walk behind every reader
and writer of a scenario field.

A path is walked over three kinds of tree, and each walk is written here once:

* a live object tree (a validated :class:`~sim.config.Scenario`, its lists and mappings) or the same tree as plain
  data (``model_dump``, a parsed YAML file): :func:`get`, :func:`parent`, :func:`put`, :func:`set_in_data`;
* a schema, i.e. a pydantic model *class*, to find the declaration of a field (annotation, bounds, unit):
  :func:`field_at`, :func:`bounds`, :func:`unit_and_meaning`.

Nothing here knows the loader's error type: a missing path is a :class:`NoSuchPath` (a ``KeyError``), a write that
cannot be made is a :class:`PathError`, and the callers word them for their users.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel


class NoSuchPath(KeyError):
    """A dotted path that does not exist; ``args[0]`` is the whole path, ``at`` the index of its first missing part
    (so a message can say which part is wrong and what the known part before it is)."""

    def __init__(self, dotted: str, at: int):
        super().__init__(dotted)
        self.dotted, self.at = dotted, at
        self.parts = dotted.split(".")

    def __reduce__(self):  # picklable, so it crosses from a worker process like any KeyError
        return type(self), (self.dotted, self.at)


class PathError(Exception):
    """A write into plain data that cannot be made: ``path`` is the prefix at fault, ``message`` says why."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


def deep_merge(base: dict, override: dict) -> dict:
    """Mappings merge key by key; anything else (lists included) in ``override`` replaces ``base``."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# --- live objects and plain data ----------------------------------------------------------------------------------


def child(node: Any, part: str, mappings: bool = True) -> Any:
    """One step down: a model's field, a list's item (by a digit string) or, with ``mappings``, a mapping's key;
    ``KeyError(part)`` when ``node`` has no such child."""
    if isinstance(node, BaseModel) and (part in type(node).model_fields or part in (node.model_extra or ())):
        return getattr(node, part)  # a declared field, or a provider or product the scenario adds
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    if mappings and isinstance(node, dict) and part in node:
        return node[part]
    raise KeyError(part)


def _descend(root: Any, parts: list[str], dotted: str, mappings: bool) -> Any:
    node = root
    for i, part in enumerate(parts):
        try:
            node = child(node, part, mappings)
        except KeyError:
            raise NoSuchPath(dotted, i) from None
    return node


def get(root: Any, dotted: str, mappings: bool = True) -> Any:
    """The value at ``dotted`` (see :func:`child` for what a step may enter); :class:`NoSuchPath` otherwise."""
    return _descend(root, dotted.split("."), dotted, mappings)


def parent(root: Any, dotted: str) -> tuple[Any, str]:
    """(the node holding the last part, the last part); :class:`NoSuchPath` when the node does not exist."""
    parts = dotted.split(".")
    return _descend(root, parts[:-1], dotted, True), parts[-1]


def put(root: BaseModel, dotted: str, value: Any) -> None:
    """Assign a field of a live model tree so pydantic validates it: a model field by ``setattr``
    (``validate_assignment`` checks type and bounds), a mapping's key by re-assigning the whole mapping to its
    owner; ``KeyError(dotted)`` for anything else."""
    node, key = parent(root, dotted)
    if isinstance(node, BaseModel) and key in type(node).model_fields:
        setattr(node, key, value)
    elif isinstance(node, dict):
        owner, owner_key = parent(root, dotted.rsplit(".", 1)[0])
        setattr(owner, owner_key, {**node, key: value})
    else:
        raise KeyError(dotted)


def set_in_data(data: dict, dotted: str, value: Any) -> None:
    """Write ``value`` at a dotted path of plain data, creating mappings as needed (a schema judges the result
    later); :class:`PathError` naming the prefix that is a value or a missing list item."""
    parts = dotted.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                raise PathError(".".join(parts[: i + 1]), "no such list item") from None
            continue
        here = node.get(part)
        if here is None:
            here = node[part] = {}
        if not isinstance(here, (dict, list)):
            raise PathError(".".join(parts[: i + 1]), "is a value, not a section")
        node = here
    if isinstance(node, list):
        try:
            node[int(parts[-1])] = value
        except (ValueError, IndexError):
            raise PathError(dotted, "no such list item") from None
    else:
        node[parts[-1]] = value


def leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of nested mappings by its dotted path (lists are leaves)."""
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(leaves(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: tree}


# --- the schema: model classes ------------------------------------------------------------------------------------


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _declared_child(node: Any, part: str | int) -> tuple[Any, Any]:
    """The strict step: a model's field, a list's item type (by a digit), a mapping's value type (by any key)."""
    origin = typing.get_origin(node)
    if origin is list and isinstance(part, str) and part.isdigit():
        return None, typing.get_args(node)[0]
    if origin is dict:
        return None, typing.get_args(node)[1]
    if _is_model(node) and part in node.model_fields:
        info = node.model_fields[part]
        return info, info.annotation
    raise KeyError(part)


def _loose_child(node: Any, part: str | int) -> tuple[Any, Any]:
    """The loose step (for a validation error's location, where union tags and indices appear): a model's field,
    else the last model among a container's or union's type arguments; Annotated wrappers are dropped."""
    if _is_model(node):
        info = node.model_fields.get(part) if isinstance(part, str) else None
        if info is None:
            raise KeyError(part)
        node = info.annotation
    elif typing.get_origin(node) in (list, dict, typing.Union, typing.Annotated) or isinstance(part, int):
        models = [a for a in typing.get_args(node) if _is_model(a)]
        if not models:
            raise KeyError(part)
        info, node = None, models[-1]
    else:
        raise KeyError(part)
    while typing.get_origin(node) is typing.Annotated:
        node = typing.get_args(node)[0]
    return info, node


def field_at(model: type[BaseModel], parts: typing.Iterable[str | int], loose: bool = False) -> tuple[Any, Any]:
    """(the pydantic ``FieldInfo`` of the last part, or None for a list item or mapping value; its annotation) of a
    path into the model class; ``KeyError`` when the schema has no such path. ``loose`` walks a validation error's
    location (see :func:`_loose_child`)."""
    step = _loose_child if loose else _declared_child
    info, node = None, model
    for part in parts:
        info, node = step(node, part)
    return info, node


def model_fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names of the schema block that holds ``loc``'s last key (for "did you mean"); [] if unknown."""
    try:
        _, node = field_at(model, loc[:-1], loose=True)
    except KeyError:
        return []
    return list(node.model_fields) if _is_model(node) else []


def bounds(info: Any) -> tuple[float | None, float | None]:
    """A field's declared (low, high) bounds (``ge``/``gt``, ``le``/``lt``); None where it declares none."""
    metadata = info.metadata if info is not None else ()
    low = next((getattr(m, a) for m in metadata for a in ("ge", "gt") if getattr(m, a, None) is not None), None)
    high = next((getattr(m, a) for m in metadata for a in ("le", "lt") if getattr(m, a, None) is not None), None)
    return low, high


UNIT = re.compile(r"\s*\[([^\]]*)\]$")  # a description ends with its unit in brackets: "price per M tokens [$]"


def unit_and_meaning(text: str | None) -> tuple[str, str]:
    """A field description split into (unit, meaning): ``"share of users [0-1]"`` -> ``("0-1", "share of users")``."""
    text = text or ""
    m = UNIT.search(text)
    return (m.group(1), text[: m.start()].strip()) if m else ("", text.strip())
