"""``rewriter._records.dataclass`` makes the classes ``dataclasses.dataclass`` makes."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from rewriter import _records


def _define(dc, field):
    @dc(frozen=True)
    class Point:
        x: int
        y: int = 0
        tags: tuple[str, ...] = field(default=(), hash=False)

    @dc(frozen=True, order=True)
    class Edit:
        start: int
        end: int
        content: str = ""

    @dc
    class Bag:
        name: str
        items: list[int] = field(default_factory=list)
        seen: dict[str, int] = field(default_factory=dict)

    @dc(frozen=True)
    class Sorted:
        values: tuple[int, ...]

        def __post_init__(self) -> None:
            object.__setattr__(self, "values", tuple(sorted(self.values)))

    @dc(frozen=True, eq=False)
    class Node:
        name: str

    return Point, Edit, Bag, Sorted, Node


STD = _define(dataclasses.dataclass, dataclasses.field)
OURS = _define(_records.dataclass, _records.field)


def _both(i):
    return STD[i], OURS[i]


@pytest.mark.parametrize("args", [(1,), (1, 2), (1, 2, ("a",))])
def test_init_repr_eq_hash(args):
    std, ours = _both(0)
    a, b = std(*args), ours(*args)
    assert repr(a) == repr(b)
    assert (a.x, a.y, a.tags) == (b.x, b.y, b.tags)
    assert b == ours(*args) and b != ours(99) and b != a  # other classes: not equal
    assert hash(b) == hash(ours(*args)) and hash(ours(1, 2, ("a",))) == hash(ours(1, 2, ("b",)))
    assert ours(x=1, y=2) == ours(1, 2)
    with pytest.raises(TypeError):
        ours()
    with pytest.raises(TypeError):
        ours(1, 2, (), 4)


def test_frozen():
    for cls in _both(0):
        p = cls(1)
        with pytest.raises(AttributeError):
            p.x = 2
        with pytest.raises(AttributeError):
            del p.x
    with pytest.raises(_records.FrozenInstanceError):
        OURS[0](1).y = 1


def test_order_is_by_fields_in_order():
    std, ours = _both(1)
    pairs = [((1, 2), (1, 3)), ((2, 0), (1, 9)), ((1, 1, "a"), (1, 1, "b")), ((1, 1), (1, 1))]
    for a, b in pairs:
        for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__"):
            assert getattr(std(*a), op)(std(*b)) == getattr(ours(*a), op)(ours(*b))
    assert sorted([ours(3, 4), ours(1, 2), ours(1, 1)]) == [ours(1, 1), ours(1, 2), ours(3, 4)]


def test_default_factories_are_fresh():
    std, ours = _both(2)
    a, b = ours("a"), ours("b")
    a.items.append(1)
    assert b.items == [] and a.seen is not b.seen
    assert repr(ours("n", [1])) == repr(std("n", [1])).replace(std.__qualname__, ours.__qualname__)
    b.name = "c"  # not frozen
    with pytest.raises(TypeError):
        hash(b)  # compared by value and mutable: unhashable, as dataclasses make it


def test_post_init_runs():
    std, ours = _both(3)
    assert ours((3, 1, 2)).values == std((3, 1, 2)).values == (1, 2, 3)


def test_eq_false_is_identity():
    _, ours = _both(4)
    a = ours("x")
    assert a != ours("x") and a == a and hash(a) == object.__hash__(a)


@pytest.mark.parametrize("i", [0, 1, 3])
def test_frozen_instances_pickle(i):
    cls = OURS[i]
    globals()[cls.__qualname__.split(".")[-1]] = cls  # picklable by name
    cls.__qualname__ = cls.__name__
    obj = cls(*{0: (1, 2), 1: (1, 2, "x"), 3: ((2, 1),)}[i])
    assert pickle.loads(pickle.dumps(obj)) == obj


def test_the_package_uses_it():
    import rewriter.core.engine  # noqa: F401
    import rewriter.report.outcome  # noqa: F401
    import rewriter.cli.runner  # noqa: F401

    assert not hasattr(rewriter.report.outcome.FileOutcome, "__dataclass_fields__")
