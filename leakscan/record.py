"""Records: `typing.NamedTuple` to the type checker, a leaner class builder at run time.

`class Rule(NamedTuple): ...` reads the same everywhere in leakscan. To mypy it is `typing.NamedTuple`.
At run time it is built here: `typing` checks every field's annotation (compiling each string into a
`ForwardRef`) and `collections.namedtuple` compiles a `__new__` for each class; for leakscan's ~50
records that was ~14 ms of every start-up, plus ~5 ms for importing `typing` at all, which no module
on the scan path does any more (`TYPE_CHECKING` below, docs/performance.md). The classes built here
behave as namedtuples do where leakscan and pickle look: positional and keyword construction with
defaults, field properties, `_fields`, `_field_defaults`, `_make`, `_replace`, `_asdict`, the repr,
tuple equality and hashing unless the class defines its own, pickling by field values.
"""

from __future__ import annotations

from operator import itemgetter

__all__ = ["TYPE_CHECKING", "NamedTuple"]

TYPE_CHECKING = False  # mypy takes any name `TYPE_CHECKING` as true; at run time `typing` stays unloaded

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, NamedTuple

try:
    from _collections import _tuplegetter as _getter  # what collections.namedtuple uses (CPython)
except ImportError:  # pragma: no cover - other Pythons

    def _getter(index: int, doc: str) -> object:
        return property(itemgetter(index), doc=doc)


# what typing.NamedTuple refuses to let a class body define
_PROHIBITED = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields",
                         "_field_defaults", "_make", "_replace", "_asdict", "_source"})  # fmt: skip


def _constructor(fields: tuple[str, ...], defaults: tuple[object, ...]) -> Any:
    """The class's `__new__`: positional arguments, with defaults for the trailing fields, take one
    tuple concatenation (a closure, not a compiled function as in collections.namedtuple)."""
    count, optional = len(fields), len(defaults)
    new = tuple.__new__

    def __new__(cls: Any, *args: object, **kwargs: object) -> Any:
        missing = count - len(args)
        if missing == 0 and not kwargs:
            return new(cls, args)
        if not kwargs and 0 < missing <= optional:
            return new(cls, args + defaults[optional - missing :])
        return new(cls, _bind(cls, fields, args, kwargs))

    return __new__


def _bind(
    cls: Any, fields: tuple[str, ...], args: tuple[object, ...], kwargs: dict[str, object]
) -> list[object]:
    """Positional and keyword arguments -> field values, with the TypeErrors a namedtuple raises."""
    name = cls.__name__
    if len(args) > len(fields):
        raise TypeError(
            f"{name}() takes {len(fields)} positional arguments but {len(args)} were given"
        )
    values = list(args)
    defaults: dict[str, object] = cls._field_defaults
    for field in fields[len(args) :]:
        if field in kwargs:
            values.append(kwargs.pop(field))
        elif field in defaults:
            values.append(defaults[field])
        else:
            raise TypeError(f"{name}() missing required argument: {field!r}")
    if kwargs:
        extra = next(iter(kwargs))
        why = (
            "multiple values for argument" if extra in fields else "an unexpected keyword argument"
        )
        raise TypeError(f"{name}() got {why} {extra!r}")
    return values


def _make(cls: Any, iterable: Iterable[object]) -> Any:
    result = tuple.__new__(cls, iterable)
    if len(result) != len(cls._fields):
        raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
    return result


def _replace(self: Any, **changes: object) -> Any:
    fields: tuple[str, ...] = self._fields
    result = _make(type(self), [changes.pop(f, v) for f, v in zip(fields, self)])
    if changes:
        raise ValueError(f"Got unexpected field names: {list(changes)!r}")
    return result


def _asdict(self: Any) -> dict[str, object]:
    return dict(zip(self._fields, self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
    return f"{type(self).__name__}({shown})"


def _getnewargs(self: tuple[object, ...]) -> tuple[object, ...]:
    return tuple(self)


class _RecordMeta(type):
    """Turns `class X(NamedTuple): a: int; b: str = ""` into a tuple subclass with those fields."""

    def __new__(mcls, typename: str, bases: tuple[type, ...], ns: dict[str, object]) -> type:
        if bases != (_Record,):
            raise TypeError(f"{typename}: a record's only base is NamedTuple")
        if "__annotations__" not in ns and "__annotate__" in ns:  # Python 3.14 without the future import
            raise TypeError(f"{typename}: a record module needs `from __future__ import annotations`")
        annotations: dict[str, object] = ns.get("__annotations__", {})  # type: ignore[assignment]
        fields = tuple(annotations)
        defaults = {f: ns[f] for f in fields if f in ns}
        required = [f for f in fields if f not in defaults]
        if fields[: len(required)] != tuple(required):
            raise TypeError(f"{typename}: a field without a default follows one with a default")
        if any(f.startswith("_") for f in fields):
            raise ValueError(f"{typename}: field names cannot start with an underscore")
        taken = _PROHIBITED.intersection(ns)
        if taken:
            raise AttributeError(f"{typename}: cannot overwrite NamedTuple attribute {min(taken)}")
        body: dict[str, object] = {
            "__doc__": f"{typename}({repr(fields).replace(chr(39), '')[1:-1]})",  # namedtuple's
            "__slots__": (),
            "__new__": _constructor(fields, tuple(defaults.values())),
            "__getnewargs__": _getnewargs,
            "__repr__": _repr,
            "__match_args__": fields,
            "_fields": fields,
            "_field_defaults": defaults,
            "_make": classmethod(_make),
            "_replace": _replace,
            "_asdict": _asdict,
        }
        body.update((k, v) for k, v in ns.items() if k not in defaults)
        if "__eq__" in ns and "__hash__" not in ns:  # typing keeps tuple's hash; type() would drop it
            body["__hash__"] = tuple.__hash__
        for index, field in enumerate(fields):
            body[field] = _getter(index, f"Alias for field number {index}")
        return type.__new__(type, typename, (tuple,), body)


_Record = type.__new__(_RecordMeta, "NamedTuple", (), {})  # the base the class statements name


if not TYPE_CHECKING:

    def NamedTuple(*args, **kwargs):  # stands in for typing.NamedTuple
        raise TypeError("leakscan records are declared with class syntax: class X(NamedTuple): ...")

    NamedTuple.__mro_entries__ = lambda bases: (_Record,)
