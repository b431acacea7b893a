"""The parameter catalogue, read from the schema: dotted path, type, default, bounds, unit and meaning.

``sim params`` prints it; sweeps, the dashboard and the docs use it instead of repeating bounds and units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from pydantic import BaseModel

from sim import paths
from sim.config import Scenario


@dataclass(frozen=True)
class Parameter:
    """One row of the parameter reference: a scenario field's path, type, default, bounds, unit and meaning."""

    path: str
    type: str
    default: object
    low: float | None
    high: float | None
    unit: str
    meaning: str


def catalogue(model: BaseModel | None = None, prefix: str = "", context: str = "") -> list[Parameter]:
    """Every leaf parameter of the scenario schema with its default (from ``model``, else the schema's defaults);
    a leaf without a meaning of its own (a segment of a per-segment table) takes its section's."""
    if model is None:
        model = Scenario(name="defaults", description="schema defaults", seed=0)
    rows = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        path = f"{prefix}{name}"
        unit, meaning = paths.unit_and_meaning(field.description)
        if isinstance(value, BaseModel):
            rows.extend(catalogue(value, path + ".", meaning or context))
            continue
        meaning = meaning or context
        low, high = paths.bounds(field)
        kind = "list" if isinstance(value, list) else type(value).__name__
        if value is None:  # an optional field left unset: name the type it takes when set
            kind = " or ".join(a.__name__ if a is not type(None) else "none" for a in get_args(field.annotation))
        rows.append(Parameter(path, kind, value if not isinstance(value, list) else f"[{len(value)} items]",
                              low, high, unit, meaning))
    return rows


def numeric_parameter(path: str) -> Parameter:
    """The catalogue entry of a numeric parameter (for sliders and sweep bounds); KeyError if there is none."""
    for p in catalogue():
        if p.path == path and p.type in ("float", "int"):
            return p
    raise KeyError(path)


def markdown_table(rows: list[Parameter]) -> str:
    """The parameter reference as a Markdown table (docs/parameters.md)."""
    lines = ["| parameter | type | default | range | unit | meaning |", "|---|---|---|---|---|---|"]
    for p in rows:
        rng = "" if p.low is None and p.high is None else f"{_fmt(p.low)} … {_fmt(p.high)}"
        lines.append(f"| `{p.path}` | {p.type} | {_fmt(p.default)} | {rng} | {p.unit} | {p.meaning} |")
    return "\n".join(lines) + "\n"


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v).replace("|", "/")


TEXT_HEADER = ("parameter", "default", "range", "unit", "meaning")
MAX_INT = 2**63 - 1  # the seed's upper bound


def compact(v) -> str:
    """A number as a reader writes it: ``1e12``, ``3e6``, ``0.05``, ``50000``, ``2^63-1``; other values as text."""
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    if v == MAX_INT:
        return "2^63-1"
    if isinstance(v, int) and abs(v) < 1_000_000:
        return str(v)
    text = f"{v:.6g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def text_table(rows: list[Parameter], width: int | None = None) -> str:
    """The parameter reference as aligned text (``sim params``): a header row, compact numbers (:func:`compact`),
    one line per parameter; with ``width`` (a terminal's), each meaning is wrapped under its own column so the lines
    fit, or at least keep 40 columns for the meaning."""
    import textwrap

    cells = [(p.path, compact(p.default),
              "" if p.low is None and p.high is None else f"[{compact(p.low)}, {compact(p.high)}]", p.unit)
             for p in rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(TEXT_HEADER[:-1])]
    aligns = ("<", ">", ">", "<")

    def fixed(values) -> str:
        return "  ".join(f"{v:{a}{w}}" for v, a, w in zip(values, aligns, widths, strict=True))

    indent = sum(widths) + 2 * len(widths)
    lines = [f"{fixed(TEXT_HEADER[:-1])}  {TEXT_HEADER[-1]}"]
    for c, p in zip(cells, rows, strict=True):
        meaning = textwrap.wrap(p.meaning, max(width - indent, 40)) if width else [p.meaning]
        meaning = meaning or [""]
        lines.append(f"{fixed(c)}  {meaning[0]}")
        lines += [" " * indent + more for more in meaning[1:]]
    return "\n".join(lines) + "\n"
