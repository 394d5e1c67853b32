"""leakscan.record builds records that behave as typing.NamedTuple's do, without importing typing."""

from __future__ import annotations

import pickle
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leakscan import record


class Typed(typing.NamedTuple):
    """A record."""

    name: str
    size: int
    tags: tuple[str, ...] = ()
    note: str | None = None

    @property
    def big(self) -> bool:
        return self.size > 10

    def label(self) -> str:
        return f"{self.name}:{self.size}"


class Lean(record.NamedTuple):
    """A record."""

    name: str
    size: int
    tags: tuple[str, ...] = ()
    note: str | None = None

    @property
    def big(self) -> bool:
        return self.size > 10

    def label(self) -> str:
        return f"{self.name}:{self.size}"


class Masked(record.NamedTuple):
    secret: str
    rule: str = "r"

    def __repr__(self) -> str:
        return f"Masked(secret=..., rule={self.rule!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Masked) and self.rule == other.rule

    def __hash__(self) -> int:
        return hash(self.rule)


def _outcome(cls: type, args: tuple[object, ...], kwargs: dict[str, object]) -> object:
    try:
        made = cls(*args, **kwargs)
    except TypeError:
        return TypeError
    return tuple(made), repr(made).replace(cls.__name__, "X"), made.label()


VALUES = st.one_of(st.text(max_size=3), st.integers(-5, 20), st.none(), st.tuples(st.text(max_size=2)))
FIELDS = st.sampled_from(["name", "size", "tags", "note", "other"])


@given(st.lists(VALUES, max_size=5), st.dictionaries(FIELDS, VALUES, max_size=3))
def test_construction_matches_typing_namedtuple(args: list[object], kwargs: dict[str, object]):
    assert _outcome(Lean, tuple(args), kwargs) == _outcome(Typed, tuple(args), kwargs)


def test_the_namedtuple_api_that_leakscan_and_pickle_use():
    lean, typed = Lean("a", 3, note="n"), Typed("a", 3, note="n")
    assert isinstance(lean, tuple) and not hasattr(lean, "__dict__")
    assert lean == typed and hash(lean) == hash(typed) and lean == ("a", 3, (), "n")
    assert Lean._fields == Typed._fields == ("name", "size", "tags", "note")
    assert Lean._field_defaults == Typed._field_defaults == {"tags": (), "note": None}
    assert Lean.__match_args__ == Typed.__match_args__
    assert lean._replace(size=4, tags=("t",)) == typed._replace(size=4, tags=("t",))
    assert type(lean._replace(size=4)) is Lean
    assert lean._asdict() == typed._asdict()
    assert Lean._make(["b", 1, (), None]) == Typed._make(["b", 1, (), None])
    assert repr(lean) == repr(typed).replace("Typed", "Lean")
    assert Lean.__doc__ == "A record." and Lean.__module__ == __name__ and Lean.__name__ == "Lean"
    for bad in (lambda: lean._replace(colour=1), lambda: Lean._make(["b"])):
        with pytest.raises((ValueError, TypeError)):
            bad()
    with pytest.raises(AttributeError):
        lean.size = 5
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(lean, protocol=protocol))
        assert type(back) is Lean and back == lean
    match lean:
        case Lean(name, size):
            assert (name, size) == ("a", 3)
        case _:
            pytest.fail("no match")


def test_methods_defined_in_the_class_win():
    one, two = Masked("hunter2", "r1"), Masked("other", "r1")
    assert one == two and hash(one) == hash(two) and "hunter2" not in repr(one)
    assert pickle.loads(pickle.dumps(one)).secret == "hunter2"


def _define(base: object, body: str) -> type:
    namespace: dict[str, object] = {"base": base}
    exec(f"class X(base):\n{body}", namespace)  # one definition, built by either base
    return namespace["X"]  # type: ignore[return-value]


@pytest.mark.parametrize(
    "body",
    [
        "    a: int = 1\n    b: int\n",  # a field without a default after one with a default
        "    _a: int\n",  # a field named with an underscore
        "    a: int\n    def _make(self): pass\n",  # namedtuple's own attributes
        "    a: int\n    __slots__ = ('b',)\n",
        "    a: int\n    def __new__(cls, a): return tuple.__new__(cls, (a,))\n",
    ],
)
def test_definitions_typing_rejects_are_rejected(body: str):
    with pytest.raises(Exception) as typed:
        _define(typing.NamedTuple, body)
    with pytest.raises(Exception) as lean:
        _define(record.NamedTuple, body)
    assert type(lean.value) is type(typed.value)
    with pytest.raises(TypeError):
        record.NamedTuple("Functional", [("a", int)])


@pytest.mark.parametrize(
    "body",
    [
        "    a: int\n",
        "    a: int\n    b: str = 'x'\n",
        "    pass\n",
        "    a: int\n    def __eq__(self, other): return True\n",  # tuple's hash stays, as in typing
    ],
)
def test_what_typing_builds_is_what_record_builds(body: str):
    typed, lean = _define(typing.NamedTuple, body), _define(record.NamedTuple, body)
    assert lean.__doc__ == typed.__doc__
    made = [cls(*([1] if "a: int" in body else [])) for cls in (typed, lean)]
    assert hash(made[0]) == hash(made[1]) and tuple(made[0]) == tuple(made[1])
