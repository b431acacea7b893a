"""YAML -> validated Scenario: safe parsing, ``extends`` with deep merge, ``--set`` overrides, dated events.

Every failure becomes a :class:`ConfigError` naming the file and the field path, so the CLI prints one line, exit 2.
Hostile files are rejected fast: size is capped before parsing, YAML tags other than the standard ones fail in
``safe_load``'s loader, and the expanded size of the document (alias bombs) is counted with a budget before use.
"""

from __future__ import annotations

import copy
import difflib
import functools
import pickle
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim import paths
from sim.catalog import LIKE_KINDS
from sim.config import Scenario, month_index
from sim.edits import apply_event
from sim.errors import MAX_FILE, ConfigError, clip
from sim.paths import deep_merge

PRESET_DIR = Path(__file__).resolve().parent.parent / "scenarios"
MAX_FILE_BYTES = 1 << 20  # 1 MiB
MAX_NODES = 200_000  # scalars + containers after alias expansion
MAX_DEPTH = 64
MAX_EXTENDS = 32


class SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, plus YAML 1.2 floats: ``1e6`` and ``7.0e8`` are numbers, not strings (YAML 1.1 wants
    a dot and a signed exponent, which surprises everyone who writes a token count)."""


# Dates stay text: YAML 1.1 reads ``2025-06-01`` as a datetime.date, and the schema's YYYY-MM check should see
# (and show) what was written rather than fail with "Input should be a valid string".
SafeLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _mapping_without_duplicates(loader: SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """A mapping whose keys are unique: a second ``population:`` block would otherwise silently replace the first."""
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key: let PyYAML report it
            break
        if duplicate:
            raise yaml.constructor.ConstructorError("while reading a mapping", node.start_mark,
                                                    f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


SafeLoader.add_constructor("tag:yaml.org,2002:map", _mapping_without_duplicates)


DISCRIMINATOR_TAGS = tuple(set(LIKE_KINDS.values()))


def format_loc(loc: tuple) -> str:
    """Pydantic's error location as a dotted path with [i] for list items."""
    out = ""
    for part in loc:
        if part in DISCRIMINATOR_TAGS:  # pydantic names the branch of a tagged union; the file has no such key
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def did_you_mean(word: str, choices: list[str], prefix: str = "") -> str:
    """``; did you mean license.mau_threshold?`` for the closest choice (difflib), or ``""``."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {prefix}{close[0]}?" if close else ""


def raise_validation(file, err: ValidationError, prefix: str = "", model: type[BaseModel] | None = None):
    """The first pydantic error as a ConfigError; an unknown key names the closest valid sibling key of ``model``."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    path = format_loc(loc)
    path = f"{prefix}.{path}" if prefix and path else (prefix or path)
    more = err.error_count() - 1
    message = first["msg"]
    if first["type"] == "value_error":  # our own validators: "KEY.FIELD: message" continues the path
        message = message.removeprefix("Value error, ")
        head, sep, rest = message.partition(": ")
        if sep and re.fullmatch(r"[a-z][a-z0-9_.]*", head):
            path, message = f"{path}.{head}" if path else head, rest
    if first["type"] == "extra_forbidden" and model is not None and loc and isinstance(loc[-1], str):
        parent = path[: -len(str(loc[-1]))]
        message = "unknown key" + did_you_mean(str(loc[-1]), paths.model_fields_at(model, loc), parent)
    message += f" (and {more} more error{'s' * (more > 1)})" if more else ""
    raise ConfigError(file, path or "(document)", message) from None


def _count_nodes(obj: Any, file) -> None:
    """Walk the parsed document with a budget; aliases make a DAG whose expansion can be exponential."""
    budget = MAX_NODES
    stack = [(obj, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise ConfigError(file, "(document)", f"document too large after alias expansion (> {MAX_NODES} nodes)")
        if depth > MAX_DEPTH:
            raise ConfigError(file, "(document)", f"document nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
            stack.extend((k, depth + 1) for k in item.keys())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def parse_yaml_text(text: str, file) -> Any:
    """Parse YAML text with the safe loader; bad syntax or an oversized document is one ConfigError, not a crash."""
    try:
        data = yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(file, where, f"invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(file, "(document)", "invalid YAML: nested too deeply") from None
    _count_nodes(data, file)
    return data


def read_yaml_mapping(path: Path) -> dict:
    """Read one YAML file that must hold a mapping, with size and structure limits."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(path, "(document)", f"file is {size} bytes; the limit is {MAX_FILE_BYTES}")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, "", "is a directory, not a YAML file") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "(document)", "file is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(path, "", exc.strerror or str(exc)) from None
    data = parse_yaml_text(text, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(path, "(document)", f"top level must be a mapping, got {type(data).__name__}")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ConfigError(path, str(bad[0]), "keys must be strings")
    return data


def is_file(path: Path, test=Path.is_file) -> bool:
    """``path.is_file()`` (or ``test(path)``, e.g. ``Path.exists``), False where the file system refuses the name
    (too long, for one) instead of raising."""
    try:
        return test(path)
    except OSError:
        return False


def resolve_scenario_path(ref: str, relative_to: Path | None = None) -> Path:
    """A preset's name (``baseline``) or a path; relative paths are taken from the extending file's folder."""
    candidate = Path(ref)
    if relative_to is not None and not candidate.is_absolute():
        near = relative_to.parent / candidate
        if is_file(near) or near.suffix in (".yaml", ".yml"):
            return near
    if candidate.suffix in (".yaml", ".yml") or is_file(candidate) or "/" in ref:
        return candidate
    return PRESET_DIR / f"{ref}.yaml"


def preset_or_path(ref: str) -> Path:
    """:func:`resolve_scenario_path` of what a user typed: a name that is no preset is one line naming the closest
    preset (a file's ``extends`` is checked where it is read, naming the file and field)."""
    path = resolve_scenario_path(ref)
    if path.parent == PRESET_DIR and path.name == f"{ref}.yaml" and not is_file(path):
        names = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))
        raise ConfigError(clip(ref), "", f"no preset scenario or file of that name{did_you_mean(ref, names)} "
                                   f"(sim list shows the presets)")
    return path


def load_merged_dict(path: Path, _chain: tuple = ()) -> dict:
    """The file's mapping with its ``extends`` chain merged underneath it."""
    real = path.resolve()
    if real in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, real))
        raise ConfigError(path, "extends", f"cyclic extends: {cycle}")
    if len(_chain) >= MAX_EXTENDS:
        raise ConfigError(path, "extends", f"extends chain longer than {MAX_EXTENDS}")
    data = read_yaml_mapping(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent:
        raise ConfigError(path, "extends", "must be a scenario name or a path")
    parent_path = resolve_scenario_path(parent, relative_to=path)
    if not is_file(parent_path):  # a name too long for the file system is not found either
        raise ConfigError(path, "extends", f"no scenario {parent!r} (looked for {parent_path})")
    try:
        base = load_merged_dict(parent_path, (*_chain, real))
    except ConfigError as exc:
        if exc.file == str(path):
            raise
        raise ConfigError(path, "extends", f"in {exc.file}: {exc.path}: {exc.message}") from None
    return deep_merge(base, data)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``dotted.path=value`` with the value read as a YAML scalar (so 3, 0.5, true, open all work)."""
    if "=" not in text:
        raise ConfigError("--set", text, "expected dotted.path=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError("--set", text, "empty field path")
    value = parse_yaml_text(raw, "--set") if raw.strip() else ""
    if isinstance(value, (dict, list)):
        raise ConfigError("--set", key, "value must be a scalar")
    return key, value


def set_in_dict(data: dict, dotted: str, value: Any, source: str) -> None:
    """Write ``value`` at a dotted path of a plain mapping, creating mappings as needed (the schema judges later)."""
    try:
        paths.set_in_data(data, dotted, value)
    except paths.PathError as exc:
        raise ConfigError(source, exc.path, exc.message) from None


def load_scenario(ref: str | Path, overrides: list[str] | tuple = (), population: int | None = None,
                  seed: int | None = None) -> Scenario:
    """Load, merge, override and validate a scenario; raises ConfigError on any bad input.

    The file is validated on its own first, so an error is blamed on the file only if the file holds it; an error
    the command line introduces is blamed on the option (``--set license.mau_treshold: unknown key; ...``)."""
    path = preset_or_path(str(ref))
    data = deep_merge(default_tree(), load_merged_dict(path))  # overrides may reach into default lists
    changes = [parse_assignment(text) for text in overrides]
    if population is not None:
        changes.append(("population.n", population))
    if seed is not None:
        changes.append(("seed", seed))
    if not changes:
        return validate_scenario(data, path)
    validate_scenario(copy.deepcopy(data), path)
    options = [f"--set {clip(key)}" for key, _ in changes[: len(overrides)]]
    options += ["--population"] * (population is not None) + ["--seed"] * (seed is not None)
    for option, (key, value) in zip(options, changes, strict=True):
        set_in_dict(data, key, value, option)
    try:
        return validate_scenario(data, path)
    except ConfigError as exc:
        if exc.file != clip(path, MAX_FILE):
            raise
        option, exact = _blame(exc.path, [clip(k, MAX_FILE) for k, _ in changes], options)
        raise ConfigError(option, "", exc.message if exact else f"{clip(exc.path)}: {exc.message}") from None


def _blame(field: str, keys: list[str], options: list[str]) -> tuple[str, bool]:
    """The command-line option whose key is ``field`` or holds it (the last one wins, as it was applied last) and
    whether it is ``field`` itself; failing that, every option, since together they made a file that validated alone
    invalid."""
    for key, option in reversed(list(zip(keys, options, strict=True))):
        if field == key or field.startswith(key + ".") or field.startswith(key + "["):
            return option, field == key
    return ", ".join(dict.fromkeys(options)), False


def default_tree() -> dict:
    """Every defaulted field of the schema as plain data, so a partial section in a file (``providers: {openai:
    {flywheel: {strength: 0}}}``) overrides only what it names instead of resetting its siblings to class defaults.
    A fresh copy each call (a pickle round trip of the tree built once: a sweep validates one scenario per point)."""
    return pickle.loads(_default_tree_pickle())


@functools.cache
def _default_tree_pickle() -> bytes:
    tree = {}
    for name, field in Scenario.model_fields.items():
        if not field.is_required():
            value = field.get_default(call_default_factory=True)
            tree[name] = value.model_dump() if isinstance(value, BaseModel) else copy.deepcopy(value)
    return pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL)


def validate_scenario(data: dict, file="(scenario)") -> Scenario:
    """Fill a scenario mapping with the schema's defaults, validate it and dry-run its events."""
    try:
        scenario = Scenario.model_validate(deep_merge(default_tree(), data))
    except ValidationError as err:
        raise_validation(file, err, model=Scenario)
    check_events(scenario, file)
    return scenario


# --- events -------------------------------------------------------------------------------------------------------


def check_events(scenario: Scenario, file) -> None:
    """Dry-run every event in date order on a copy, so a bad path or value fails at load time, not mid-run; an
    event outside the simulated months would silently never happen, so it is refused."""
    if not scenario.events:
        return
    trial = scenario.model_copy(deep=True)
    order = sorted(range(len(scenario.events)), key=lambda i: scenario.events[i].date)
    last = month_dates_end(scenario.start, scenario.horizon_months)
    for i in order:
        event = scenario.events[i]
        month = month_index(scenario.start, event.date)
        if not 0 <= month < scenario.horizon_months:
            where = "before the start" if month < 0 else "after the horizon"
            raise ConfigError(file, f"events[{i}].date", f"{event.date} is {where}: the run simulates "
                                                         f"{scenario.start} to {last} ({scenario.horizon_months} "
                                                         f"months); move the event or change start/horizon_months")
        try:
            apply_event(trial, event)
        except KeyError as exc:
            raise ConfigError(file, f"events[{i}]", f"no such field {exc.args[0]!r}"
                                                    + did_you_mean(exc.args[0], parameter_paths())) from None
        except TypeError as exc:
            raise ConfigError(file, f"events[{i}]", str(exc)) from None
        except ValidationError as err:
            raise_validation(file, err, prefix=f"events[{i}]")


def month_dates_end(start: str, horizon: int) -> str:
    """The last simulated month (YYYY-MM) of a run of ``horizon`` months from ``start``."""
    months = int(start[:4]) * 12 + int(start[5:]) - 1 + horizon - 1
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def parameter_paths() -> list[str]:
    """Every dotted parameter path of the schema (for "did you mean" on event paths)."""
    from sim.params import catalogue

    return [p.path for p in catalogue()]
