"""``dataclass`` and ``field``, as dockfix uses them, made cheaply.

The standard ``dataclasses.dataclass`` compiles five or six methods from source
text for every class, at import: with dockfix's thirty classes, that was a third
of the time a small file takes to fix, and an editor runs dockfix on every
save.  This module makes the same classes with one compiled ``__init__`` each
and shared ``__repr__``/``__eq__``/``__hash__``/ordering/frozen methods.

What it supports is what dockfix uses: ``frozen``, ``eq``, ``order``, defaults,
``field(default=..., default_factory=..., hash=...)``, ``__post_init__``.  The
classes behave as the standard ones do (``tests/test_records.py`` compares
them), except that ``dataclasses.fields()`` and friends do not know them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["FrozenInstanceError", "dataclass", "field"]

T = TypeVar("T")
_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "MISSING"})()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen instance."""


class Field:
    __slots__ = ("default", "default_factory", "hash")

    def __init__(self, default: Any, default_factory: Any, hash: bool | None) -> None:
        self.default = default
        self.default_factory = default_factory
        self.hash = hash


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING,
          hash: bool | None = None) -> Any:
    return Field(default, default_factory, hash)


def dataclass(cls: type[T] | None = None, /, *, frozen: bool = False, eq: bool = True,
              order: bool = False) -> Any:
    def wrap(c: type[T]) -> type[T]:
        return _process(c, frozen, eq, order)

    return wrap if cls is None else wrap(cls)


def _process(cls: Any, frozen: bool, eq: bool, order: bool) -> Any:
    names = [n for n, a in cls.__dict__.get("__annotations__", {}).items()
             if not str(a).startswith(("ClassVar", "typing.ClassVar"))]
    hashed = []
    namespace: dict[str, Any] = {"MISSING": _MISSING}
    params, body = [], []
    for n in names:
        default = cls.__dict__.get(n, _MISSING)
        f = default if isinstance(default, Field) else Field(default, _MISSING, None)
        if f.hash is not False:
            hashed.append(n)
        value = n
        if f.default_factory is not _MISSING:
            namespace[f"_factory_{n}"] = f.default_factory
            params.append(f"{n}=MISSING")
            value = f"_factory_{n}() if {n} is MISSING else {n}"
        elif f.default is not _MISSING:
            namespace[f"_default_{n}"] = f.default
            params.append(f"{n}=_default_{n}")
        elif any("=" in p for p in params):
            raise TypeError(f"non-default argument {n!r} follows default argument")
        else:
            params.append(n)
        if isinstance(default, Field):
            if f.default is not _MISSING:
                setattr(cls, n, f.default)
            else:
                delattr(cls, n)
        body.append(f"  _set(self, {n!r}, {value})" if frozen else f"  self.{n} = {value}")
    if "__post_init__" in cls.__dict__:
        body.append("  self.__post_init__()")
    namespace["_set"] = object.__setattr__
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass")
    exec(source, namespace)  # noqa: S102 - our own field names, never input
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    fields = tuple(names)
    get = _getter(fields)
    cls.__match_args__ = fields
    _add(cls, "__repr__", _repr(fields))
    if eq:
        _add(cls, "__eq__", _eq(get))
    if order:
        import operator

        for op in ("lt", "le", "gt", "ge"):
            _add(cls, f"__{op}__", _compare(get, getattr(operator, op), op))
    if frozen:
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_delattr
    if eq and frozen:
        _add(cls, "__hash__", _hash(_getter(tuple(hashed))))
    elif eq and "__hash__" not in cls.__dict__:
        cls.__hash__ = None  # mutable and compared by value: unhashable, as dataclasses do
    return cls


def _add(cls: Any, name: str, method: Any) -> None:
    """Set a method the class does not define itself (as ``dataclasses`` does)."""
    if name not in cls.__dict__:
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)


def _getter(fields: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of the ``fields`` of an instance."""
    import operator

    if len(fields) > 1:
        return operator.attrgetter(*fields)
    if fields:
        one = operator.attrgetter(fields[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


def _repr(fields: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in fields)
        return f"{self.__class__.__qualname__}({inner})"

    return __repr__


def _eq(get: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return get(self) == get(other)

    return __eq__


def _compare(get: Callable[[Any], tuple[Any, ...]], how: Callable[[Any, Any], Any],
             op: str) -> Callable[[Any, Any], Any]:
    def compare(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return how(get(self), get(other))

    compare.__name__ = f"__{op}__"
    return compare


def _hash(get: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(get(self))

    return __hash__


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")
