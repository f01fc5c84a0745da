"""A fast "surely valid" test for CALL payloads, compiled from the `ocpp` library's schemas.

jsonschema's Draft4Validator takes ~0.8 ms for one 1.6 MeterValues of nine sampled values on
this machine, the largest single cost of a message. The schemas use a small set of keywords,
so each is compiled here into plain Python checks. The answer is one-sided: True only when
the payload is certainly valid under the library's validator; False means "not sure", and
`validation.check` then runs as before and gives the error code, or accepts. A keyword this
module does not know (multipleOf, patternProperties, ...) compiles to "not sure", so a
payload is never accepted that the full validator would refuse.

Draft 4 as jsonschema reads it, without a format checker (the library passes none): `format`
is not checked; `integer` is an int (not a bool, not 1.0); `additionalItems` only matters
with a list of `items`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ocpp.messages import get_validator

Check = Callable[[Any], bool]
# Keywords that never change validity for the library's validator.
_IGNORED = frozenset(
    {"$schema", "$id", "id", "title", "description", "javaType", "comment", "$comment",
     "default", "format", "definitions", "additionalItems", "tsEnumNames"}
)  # fmt: skip
_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "integer": lambda x: type(x) is int,
    "number": lambda x: type(x) in (int, float),
    "boolean": lambda x: type(x) is bool,
    "null": lambda x: x is None,
}
_OBJECT_KEYWORDS = _IGNORED | {"type", "properties", "required", "additionalProperties"}
_NOT_SURE: Check = lambda _: False  # noqa: E731
_compiled: dict[tuple[str, str], Check] = {}


def surely_valid(version: str, action: str, payload: Any) -> bool:
    """True only if `payload` is valid for the action's CALL schema."""
    check = _compiled.get((version, action))
    if check is None:
        try:
            schema = get_validator(2, action, version).schema
        except (OSError, ValueError):
            return False
        check = _compiled[(version, action)] = _Compiler(schema).compile(schema)
    return check(payload)


def _all_of(checks: list[Check]) -> Check:
    # Most schemas are one or two keywords (a type and an enum or a maxLength): calling them
    # directly is ~3x cheaper than a generator over the list.
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)
    return lambda x: all(check(x) for check in checks)


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self._root = root
        self._refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if not isinstance(schema, Mapping):
            return _NOT_SURE
        if "$ref" in schema:
            return self._ref(str(schema["$ref"])) if len(schema) == 1 else _NOT_SURE
        if schema.get("type") == "object" and _OBJECT_KEYWORDS.issuperset(schema):
            return self._object(schema)
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _IGNORED:
                continue
            check = self._keyword(keyword, value, schema)
            if check is None:
                return _NOT_SURE
            checks.append(check)
        return _all_of(checks)

    def _object(self, schema: Mapping[str, Any]) -> Check:
        """The usual object schema as one function (the generic conjunction is 3x slower)."""
        props = {name: self.compile(sub) for name, sub in schema.get("properties", {}).items()}
        needed = tuple(schema.get("required", ()))
        extra = schema.get("additionalProperties", True)
        if extra is not True and extra is not False:
            return _NOT_SURE
        closed = frozenset(props) if extra is False else None

        def check(x: Any) -> bool:
            if type(x) is not dict:
                return False
            for key in needed:
                if key not in x:
                    return False
            if closed is not None and not closed.issuperset(x):
                return False
            for key, value in x.items():
                prop = props.get(key)
                if prop is not None and not prop(value):
                    return False
            return True

        return check

    def _ref(self, ref: str) -> Check:
        if ref not in self._refs:
            if not ref.startswith("#/"):
                return _NOT_SURE
            target: Any = self._root
            for part in ref[2:].split("/"):
                target = target.get(part) if isinstance(target, Mapping) else None
            self._refs[ref] = _NOT_SURE  # a reference to itself stays "not sure"
            self._refs[ref] = self.compile(target)
        return self._refs[ref]

    def _keyword(self, keyword: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
        """The check of one keyword, or None when it is not understood."""
        if keyword == "type":
            names = value if isinstance(value, list) else [value]
            if not all(name in _TYPES for name in names):
                return None
            kinds = [_TYPES[name] for name in names]
            if len(kinds) == 1:
                return kinds[0]
            return lambda x: any(kind(x) for kind in kinds)
        if keyword == "properties":
            props = {name: self.compile(sub) for name, sub in value.items()}
            return lambda x: (
                not isinstance(x, dict) or all(props[k](v) for k, v in x.items() if k in props)
            )
        if keyword == "required":
            needed = tuple(value)
            return lambda x: not isinstance(x, dict) or all(k in x for k in needed)
        if keyword == "additionalProperties":
            if value is True:
                return lambda x: True
            if value is not False or "patternProperties" in schema:
                return None
            known = frozenset(schema.get("properties", {}))
            return lambda x: not isinstance(x, dict) or known.issuperset(x)
        if keyword == "enum":
            if not all(isinstance(item, str) for item in value):
                return None
            allowed = frozenset(value)
            return lambda x: isinstance(x, str) and x in allowed
        if keyword == "maxLength":
            return lambda x: not isinstance(x, str) or len(x) <= value
        if keyword in ("minItems", "maxItems"):
            bound = int(value)
            if keyword == "minItems":
                return lambda x: not isinstance(x, list) or len(x) >= bound
            return lambda x: not isinstance(x, list) or len(x) <= bound
        if keyword == "items":
            if not isinstance(value, Mapping):
                return None
            item = self.compile(value)
            return lambda x: not isinstance(x, list) or all(item(v) for v in x)
        if keyword in ("minimum", "maximum"):
            if "exclusiveMinimum" in schema or "exclusiveMaximum" in schema:
                return None
            if keyword == "minimum":
                return lambda x: type(x) not in (int, float) or x >= value
            return lambda x: type(x) not in (int, float) or x <= value
        return None
