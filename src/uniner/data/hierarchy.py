"""A type hierarchy mined from annotated examples: which entity types are kinds of which.

Why: a user may ask "person" and "writer" in the same call, or only "person" of a text whose
training label was "writer". Without knowing that a writer is a person, training teaches the
wrong thing twice: a piece labelled "writer" but asked "person" marks the writer as *not* a
person (a false negative), and nothing teaches which of the two to answer when both are asked.
No hand list of types can cover users' label names, so the hierarchy is read off the data: the
same mention strings are given different types across passages and data sets ("Mark Twain" is a
"writer" in one passage and a "person" in another), and the type that is given more often and to
more varied strings is the more general one.

The rule (:func:`mine_hierarchy`): for each type, the set of its normalised mention strings
(casefolded, whitespace collapsed; strings without a letter, such as years and numbers, are
left out: "1984" is a date, a book and a film, which says nothing about kinds). ``C``'s
*shared* strings are those also given some other type. ``P`` is a parent of ``C`` when

* at least ``min_support`` distinct strings are given both ``C`` and ``P``;
* they are a large share of ``C``'s shared strings (a large part of what ``C`` shares, it
  shares with ``P``; siblings and noise share a smaller part): the share's lower confidence
  bound (Wilson, one-sided 95%) is at least ``min_share``. The bound weighs the share by the
  strings it rests on: 8 of 8 (a rare "scientist" always also a "person") passes, as does 88
  of 100, while 45 of 132 (sports teams named after their cities, also given "location")
  does not;
* ``P`` is more general: strictly more mentions *and* strictly more distinct strings than ``C``.

The last condition makes the graph acyclic by construction (mention counts rise strictly along
every edge). Edges implied by a longer path are dropped (``person -> poet`` when
``person -> writer -> poet``), so :meth:`TypeHierarchy.parents` are the direct parents and
:meth:`TypeHierarchy.ancestors` their closure. Everything is sorted, so mining is deterministic.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from uniner.data.types import Example

#: Defaults chosen by reading the edges mined from the training mix (bench/mine_hierarchy.py;
#: bench/figures/hierarchy.md lists them): with a bound of 0.25 siblings and annotation habits
#: become edges (location above sports teams, organization above written works: newspapers);
#: with 0.5 true edges with a middling share go (organization above musical group, disease above
#: symptom). Support 5 keeps the rare specific types (scientist, cleric, continent).
MIN_SUPPORT = 5
MIN_SHARE = 0.4
Z_95 = 1.645  # one-sided 95% normal quantile for the share's lower bound
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Edge:
    """``parent`` is more general than ``child``; ``support`` strings given both, ``share`` of
    the child's shared strings (the raw share; mining tests its lower bound)."""

    parent: str
    child: str
    support: int = 0
    share: float = 0.0


@dataclass(frozen=True)
class TypeHierarchy:
    """A DAG of entity types (direct edges only). Types it does not know have no relatives."""

    edges: tuple[Edge, ...] = ()
    #: mentions and distinct strings per type that takes part in an edge (for inspection)
    types: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    _parents: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _children: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _ancestors: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parents: dict[str, list[str]] = defaultdict(list)
        children: dict[str, list[str]] = defaultdict(list)
        for e in self.edges:
            if e.parent == e.child:
                raise ValueError(f"type hierarchy: {e.parent!r} is its own parent")
            parents[e.child].append(e.parent)
            children[e.parent].append(e.child)
        object.__setattr__(self, "_parents", {k: tuple(sorted(v)) for k, v in parents.items()})
        object.__setattr__(self, "_children", {k: tuple(sorted(v)) for k, v in children.items()})
        object.__setattr__(self, "_ancestors", _closure(self._parents))

    def parents(self, label: str) -> tuple[str, ...]:
        """Direct parents of ``label``, sorted."""
        return self._parents.get(label, ())

    def children(self, label: str) -> tuple[str, ...]:
        """Direct children of ``label``, sorted."""
        return self._children.get(label, ())

    def ancestors(self, label: str) -> frozenset[str]:
        """Every type above ``label`` (not ``label`` itself)."""
        return self._ancestors.get(label, frozenset())

    def __len__(self) -> int:
        return len(self.edges)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": FORMAT_VERSION,
                "types": {k: list(v) for k, v in sorted(self.types.items())},
                "edges": [
                    {"parent": e.parent, "child": e.child, "support": e.support, "share": e.share}
                    for e in self.edges
                ],
            },
            indent=1,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> TypeHierarchy:
        raw = json.loads(text)
        if not isinstance(raw, dict) or raw.get("version") != FORMAT_VERSION:
            raise ValueError(f"not a type hierarchy (version {FORMAT_VERSION} JSON object)")
        edges = []
        for i, e in enumerate(raw.get("edges", [])):
            try:
                edges.append(
                    Edge(str(e["parent"]), str(e["child"]), int(e["support"]), float(e["share"]))
                )
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f"type hierarchy edge {i}: {err!r}") from err
        types = {str(k): (int(v[0]), int(v[1])) for k, v in raw.get("types", {}).items()}
        return cls(tuple(edges), types)

    @classmethod
    def load(cls, path: str | Path) -> TypeHierarchy:
        """Read a JSON file written by :meth:`to_json`; errors name the file."""
        p = Path(path)
        try:
            return cls.from_json(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ValueError(f"{p}: cannot read a type hierarchy: {err}") from err


def _closure(parents: Mapping[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    """Ancestors of every type; raises on a cycle (a hand-edited file can hold one)."""
    done: dict[str, frozenset[str]] = {}

    def visit(label: str, path: tuple[str, ...]) -> frozenset[str]:
        if label in done:
            return done[label]
        if label in path:
            cycle = " -> ".join((*path[path.index(label) :], label))
            raise ValueError(f"type hierarchy has a cycle: {cycle}")
        out: set[str] = set()
        for p in parents.get(label, ()):
            out.add(p)
            out |= visit(p, (*path, label))
        done[label] = frozenset(out)
        return done[label]

    for label in sorted(parents):
        visit(label, ())
    return done


def normalise(mention: str) -> str:
    """The string a mention is compared by: casefolded, whitespace collapsed."""
    return " ".join(mention.casefold().split())


def share_bound(k: int, n: int, z: float = Z_95) -> float:
    """Wilson lower confidence bound of the share ``k / n`` (``n > 0``)."""
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def mine_hierarchy(
    examples: Iterable[Example], min_support: int = MIN_SUPPORT, min_share: float = MIN_SHARE
) -> TypeHierarchy:
    """Mine a :class:`TypeHierarchy` from annotated examples (see the module docstring)."""
    if min_support < 1 or not 0.0 < min_share <= 1.0:
        raise ValueError(
            f"need min_support >= 1 and 0 < min_share <= 1, got {min_support}, {min_share}"
        )
    mentions: Counter[str] = Counter()
    strings: dict[str, set[str]] = defaultdict(set)
    for ex in examples:
        for ent in ex.entities:
            key = normalise(ent.text)
            if any(ch.isalpha() for ch in key):
                mentions[ent.label] += 1
                strings[key].add(ent.label)
    distinct: Counter[str] = Counter()
    shared: Counter[str] = Counter()
    both: Counter[tuple[str, str]] = Counter()
    for labels in strings.values():
        distinct.update(labels)
        if len(labels) > 1:
            shared.update(labels)
            both.update((c, p) for c in labels for p in labels if c != p)
    candidates: dict[str, list[Edge]] = defaultdict(list)
    for (c, p), n in sorted(both.items()):
        general = mentions[p] > mentions[c] and distinct[p] > distinct[c]
        if n >= min_support and general and share_bound(n, shared[c]) >= min_share:
            candidates[c].append(Edge(p, c, n, round(n / shared[c], 4)))
    full = _closure({c: tuple(e.parent for e in es) for c, es in candidates.items()})
    edges = []
    for c in sorted(candidates):
        ps = {e.parent for e in candidates[c]}
        # drop an edge a longer path implies: p is above another parent q of c
        edges += [e for e in candidates[c] if not any(e.parent in full.get(q, ()) for q in ps)]
    edges.sort(key=lambda e: (-e.support, e.parent, e.child))
    used = sorted({x for e in edges for x in (e.parent, e.child)})
    return TypeHierarchy(tuple(edges), {t: (mentions[t], distinct[t]) for t in used})
