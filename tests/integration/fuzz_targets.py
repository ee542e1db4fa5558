"""What the hostile-input fuzzer aims at: every parameter of every /rest method, every /v1 query and body field.

/rest parameters are read from the handlers' own code (each `ctx.opt/req/int/req_int/bool/all("name")` call
an endpoint makes, directly or through a helper of its module), so a new parameter is fuzzed without anyone
listing it. /v1 targets come from the server's OpenAPI document.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from musicd.http.subsonic import router  # noqa: F401  (registers every endpoint)
from musicd.http.subsonic.context import ENDPOINTS

__all__ = ["HOLE", "RestTarget", "V1Target", "rest_targets", "v1_targets"]

_ACCESSORS = frozenset({"opt", "req", "int", "req_int", "bool", "all", "ints"})
# Read by the router and auth for every method (protocol version, client name): fuzzed on one method.
_ROUTER_PARAMS = ("v", "c")
HOLE = "\x00hostile\x00"  # where the hostile value goes in a JSON body


@dataclass(frozen=True)
class RestTarget:
    method: str
    param: str


@dataclass(frozen=True)
class V1Target:
    """One field of one /v1 operation: `where` is "query" or "body"; a body field's `name` is its dotted path
    (`tracks.0.positions.0`: keys, and 0 for a list item)."""

    verb: str
    route: str
    where: str
    name: str
    kind: str  # the schema type of the field: integer, number, string, boolean, array, ...
    body: Any = None  # the body with HOLE at this field (where == "body")
    path_params: tuple[str, ...] = field(default=())


# ---- /rest: parameter names from the handlers' source ----

def _literal_values(node: ast.AST, module: Any) -> list[Any] | None:
    """The values a loop iterates over, when it is a literal tuple/list or a module-level constant."""
    try:
        return list(ast.literal_eval(node))
    except ValueError:
        pass
    if isinstance(node, ast.Name) and isinstance(getattr(module, node.id, None), (tuple, list, frozenset)):
        return list(getattr(module, node.id))
    return None


def _bind(target: ast.AST, values: list[Any]) -> dict[str, list[Any]]:
    if isinstance(target, ast.Name):
        return {target.id: values}
    if isinstance(target, ast.Tuple):
        out: dict[str, list[Any]] = {}
        for i, elt in enumerate(target.elts):
            out.update(_bind(elt, [v[i] for v in values]))
        return out
    return {}


def _names(arg: ast.AST, env: dict[str, list[Any]]) -> list[str]:
    """The parameter names an accessor's argument can be: a literal, a loop variable, or an f-string of them."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.Name) and arg.id in env:
        return [str(v) for v in env[arg.id]]
    if isinstance(arg, ast.JoinedStr):
        parts: list[list[str]] = []
        for v in arg.values:
            if isinstance(v, ast.Constant):
                parts.append([str(v.value)])
            elif isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name) and v.value.id in env:
                parts.append([str(x) for x in env[v.value.id]])
            else:
                return []
        return ["".join(p) for p in itertools.product(*parts)]
    return []


class _Reads(ast.NodeVisitor):
    """Parameter names read in one function, and the module-level functions it calls."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.env: dict[str, list[Any]] = {}
        self.params: set[str] = set()
        self.unresolved: list[str] = []
        self.calls: set[str] = set()

    def _loop(self, target: ast.AST, iterable: ast.AST) -> None:
        values = _literal_values(iterable, self.module)
        if values is not None:
            self.env.update(_bind(target, values))

    def visit_For(self, node: ast.For) -> None:
        self._loop(node.target, node.iter)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._loop(node.target, node.iter)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "ctx" \
                and f.attr in _ACCESSORS and node.args:
            found = _names(node.args[0], self.env)
            self.params.update(found)
            if not found:
                self.unresolved.append(ast.unparse(node))
        if isinstance(f, ast.Name):
            self.calls.add(f.id)
        # Visit generators before the element, so a comprehension's loop variable is bound when it is used.
        for child in sorted(ast.iter_child_nodes(node), key=lambda n: not isinstance(n, ast.comprehension)):
            self.visit(child)

    def visit_ListComp(self, node: ast.ListComp) -> None:
        for g in node.generators:
            self.visit(g)
        self.visit(node.elt)

    visit_GeneratorExp = visit_SetComp = visit_ListComp  # type: ignore[assignment]


def _functions(module: Any) -> dict[str, ast.AST]:
    tree = ast.parse(inspect.getsource(module))
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _reads_of(fn_name: str, module: Any, seen: set[str] | None = None) -> tuple[set[str], list[str]]:
    """Everything `fn_name` reads, through the helpers of its own module it calls (transitively)."""
    seen = seen if seen is not None else set()
    seen.add(fn_name)
    funcs = _functions(module)
    visitor = _Reads(module)
    visitor.visit(funcs[fn_name])
    params, unresolved = set(visitor.params), list(visitor.unresolved)
    for called in visitor.calls - seen:
        if called in funcs:
            p, u = _reads_of(called, module, seen)
            params |= p
            unresolved += u
        elif (obj := getattr(module, called, None)) is not None and inspect.isfunction(obj) \
                and obj.__module__.startswith("musicd.http.subsonic") and obj.__module__ != module.__name__:
            p, u = _reads_of(called, importlib.import_module(obj.__module__), {called})
            params |= p
            unresolved += u
    return params, unresolved


def rest_targets() -> tuple[list[RestTarget], list[str]]:
    """Every (method, parameter) pair of the registered endpoints, and the reads that could not be resolved."""
    targets: list[RestTarget] = []
    unresolved: list[str] = []
    for name, ep in sorted(ENDPOINTS.items()):
        params, missed = _reads_of(ep.fn.__name__, importlib.import_module(ep.fn.__module__))
        unresolved += [f"{name}: {m}" for m in missed]
        targets += [RestTarget(name, p) for p in sorted(params)]
    targets += [RestTarget("ping", p) for p in _ROUTER_PARAMS]
    return targets, unresolved


# ---- /v1: query parameters and body fields from the OpenAPI document ----

def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _object_schema(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any] | None:
    """The object alternative of a body schema (bodies may be `oneOf` an object, a list, null)."""
    schema = _resolve(schema, doc)
    for alt in schema.get("oneOf", [schema]):
        alt = _resolve(alt, doc)
        if alt.get("type") == "object" and alt.get("properties"):
            return alt
    return None


def _type(schema: dict[str, Any], doc: dict[str, Any]) -> str:
    schema = _resolve(schema, doc)
    kinds = schema.get("type")
    if isinstance(kinds, str):
        return kinds
    if isinstance(kinds, list):
        return next((str(k) for k in kinds if k != "null"), "null")
    for alt in schema.get("oneOf", []):
        t = _type(alt, doc)
        if t != "null":
            return t
    return "any"


def _minimal(schema: dict[str, Any], doc: dict[str, Any]) -> Any:
    """A small valid value for a schema (required fields only), so one hostile field is what a request tests."""
    schema = _resolve(schema, doc)
    if "enum" in schema:
        return schema["enum"][0]
    kind = _type(schema, doc)
    if kind == "object":
        obj = _object_schema(schema, doc) or {}
        props = obj.get("properties", {})
        return {k: _minimal(props[k], doc) for k in obj.get("required", []) if k in props}
    if kind == "array":
        return []
    return {"integer": 0, "number": 0, "boolean": False, "string": "x"}.get(kind)


def _items(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """The item schema of an array schema (or of its array alternative)."""
    schema = _resolve(schema, doc)
    for alt in [schema, *schema.get("oneOf", [])]:
        if "items" in alt:
            return _resolve(alt["items"], doc)
    return {}


def _leaves(schema: dict[str, Any], doc: dict[str, Any], prefix: tuple[Any, ...] = ()
            ) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every scalar field of a body schema, nested objects and list items (index 0) included."""
    obj = _object_schema(schema, doc)
    if obj is None:
        return
    for key, sub in obj["properties"].items():
        kind = _type(sub, doc)
        if kind == "object":
            yield from _leaves(sub, doc, (*prefix, key))
        elif kind == "array" and _type(_items(sub, doc), doc) == "object":
            yield from _leaves(_items(sub, doc), doc, (*prefix, key, 0))
        elif kind == "array":
            yield (*prefix, key, 0), _type(_items(sub, doc), doc)
        else:
            yield (*prefix, key), kind


def _fill(schema: dict[str, Any], doc: dict[str, Any], path: tuple[Any, ...]) -> Any:
    """A minimal value of `schema` with HOLE at `path`."""
    if not path:
        return HOLE
    key, rest = path[0], path[1:]
    if isinstance(key, int):
        return [_fill(_items(schema, doc), doc, rest)]
    obj = _object_schema(schema, doc) or {"properties": {}}
    value = _minimal(obj, doc)
    value[key] = _fill(obj["properties"].get(key, {}), doc, rest)
    return value


def v1_targets(doc: dict[str, Any], skip: str) -> list[V1Target]:
    """Every query parameter and body field of every operation whose route does not match `skip`."""
    out: list[V1Target] = []
    for route, ops in sorted(doc["paths"].items()):
        if re.search(skip, route):
            continue
        for verb, op in ops.items():
            if verb not in ("get", "post", "put", "patch", "delete"):
                continue
            params = op.get("parameters", [])
            path_params = tuple(p["name"] for p in params if p["in"] == "path")
            for p in params:
                if p["in"] == "query":
                    out.append(V1Target(verb.upper(), route, "query", p["name"], _type(p.get("schema", {}), doc),
                                        path_params=path_params))
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                schema = content["schema"]
                for path, kind in _leaves(schema, doc):
                    out.append(V1Target(verb.upper(), route, "body", ".".join(map(str, path)), kind,
                                        _fill(schema, doc, path), path_params))
    return out
