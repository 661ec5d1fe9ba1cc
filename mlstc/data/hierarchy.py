"""Label hierarchies: parsing, checking and ancestor-augmented label matrices
(introduced in chapter 04).

A hierarchy is a tree over label names: each label has at most one parent. It comes
from a mapping parent -> children (a corpus's own, or a JSON file a reader passes),
or from labels written as paths (``positive/earnings`` is a child of ``positive``).
A parent need not be a label of the data: Reuters' topic groups are not topics, so
the group node is *derived* (a document has it when it has any of its children).

Bad hierarchies raise :class:`HierarchyError` naming the label at fault: a cycle, a
child with two parents, or a child the data does not have.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np


class HierarchyError(ValueError):
    """A hierarchy that cannot be used: names the label and the source."""


@dataclasses.dataclass(frozen=True)
class Hierarchy:
    """A forest over ``nodes`` (parents before children, top level first).

    ``parent`` maps each non-root node to its parent; ``derived`` are the nodes that
    are not labels of the data (their targets are the OR of their children's).
    """

    nodes: tuple[str, ...]
    parent: Mapping[str, str]
    derived: frozenset[str] = frozenset()

    # --- construction -------------------------------------------------------------

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Iterable[str]], labels: Sequence[str], *,
                     source: str = "the hierarchy") -> Hierarchy:
        """Check ``mapping`` (parent -> children) against the data's ``labels``.

        Every child must be a label of the data; a parent that is not becomes a
        derived node. Labels the mapping does not mention become roots.
        """
        labels = list(labels)
        known = set(labels)
        parent: dict[str, str] = {}
        for p, children in mapping.items():
            if isinstance(children, str) or not isinstance(children, Iterable):
                raise HierarchyError(f"{source}: the children of {p!r} must be a list of labels.")
            for child in children:
                if child == p:
                    raise HierarchyError(f"{source}: {p!r} is listed as its own child (a cycle).")
                if child in parent and parent[child] != p:
                    raise HierarchyError(
                        f"{source}: label {child!r} has two parents, {parent[child]!r} and {p!r}; the model "
                        "needs a tree. Keep one parent, or give the label two names.")
                if child not in known:
                    raise HierarchyError(
                        f"{source}: label {child!r} (a child of {p!r}) does not occur in the data. "
                        f"Remove it from the hierarchy or check its spelling; the data has {len(labels)} labels.")
                parent[child] = p
        for node in parent:  # walk up from every node: a revisit is a cycle
            seen = [node]
            while seen[-1] in parent:
                up = parent[seen[-1]]
                if up in seen:
                    cycle = " -> ".join([*seen[seen.index(up):], up])
                    raise HierarchyError(f"{source}: the hierarchy has a cycle: {cycle}.")
                seen.append(up)
        derived = {p for p in mapping if p not in known}
        every = [*dict.fromkeys([*labels, *sorted(derived)])]
        depth = {n: cls._depth(n, parent) for n in every}
        nodes = tuple(sorted(every, key=lambda n: (depth[n], every.index(n))))
        return cls(nodes, dict(parent), frozenset(derived))

    @staticmethod
    def _depth(node, parent) -> int:
        d = 0
        while node in parent:
            node, d = parent[node], d + 1
        return d

    @classmethod
    def from_paths(cls, labels: Sequence[str], separator: str = "/") -> Hierarchy:
        """Labels written as paths: ``a/b`` is a child of ``a`` (which must be a
        label too; :func:`expand_paths` adds it)."""
        mapping: dict[str, list[str]] = {}
        for label in labels:
            if separator in label:
                mapping.setdefault(label.rsplit(separator, 1)[0], []).append(label)
        return cls.from_mapping(mapping, labels, source="labels written as paths")

    @classmethod
    def from_json(cls, path, labels: Sequence[str]) -> Hierarchy:
        """A JSON file ``{"parent": ["child", ...], ...}`` (or ``{"groups": {...}}``)."""
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"hierarchy file {path} does not exist: pass a JSON file parent -> children.")
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise HierarchyError(f"{path}: not valid JSON ({error.msg}, line {error.lineno}).") from None
        mapping = mapping.get("groups", mapping) if isinstance(mapping, dict) else mapping
        if not isinstance(mapping, dict):
            raise HierarchyError(f"{path}: expected a JSON object parent -> list of children.")
        return cls.from_mapping(mapping, labels, source=str(path))

    # --- structure ----------------------------------------------------------------

    def depth(self, node: str) -> int:
        return self._depth(node, self.parent)

    def ancestors(self, node: str) -> list[str]:
        out = []
        while node in self.parent:
            node = self.parent[node]
            out.append(node)
        return out

    def children(self, node: str) -> list[str]:
        return [n for n in self.nodes if self.parent.get(n) == node]

    @property
    def levels(self) -> list[list[str]]:
        """Nodes grouped by depth: ``levels[0]`` are the roots."""
        out: list[list[str]] = []
        for node in self.nodes:
            d = self.depth(node)
            while len(out) <= d:
                out.append([])
            out[d].append(node)
        return out

    def descendant_matrix(self) -> np.ndarray:
        """``R[i, j] = 1`` when node ``j`` is node ``i`` or one of its descendants
        (the matrix C-HMCNN's coherence layer and loss use)."""
        index = {n: i for i, n in enumerate(self.nodes)}
        r = np.eye(len(self.nodes), dtype=np.float32)
        for node in self.nodes:
            for up in self.ancestors(node):
                r[index[up], index[node]] = 1.0
        return r

    def parent_index(self) -> np.ndarray:
        """For each node its parent's index in :attr:`nodes`, or -1 for a root."""
        index = {n: i for i, n in enumerate(self.nodes)}
        return np.array([index[self.parent[n]] if n in self.parent else -1 for n in self.nodes])

    def augment(self, y, label_names: Sequence[str]) -> np.ndarray:
        """The label matrix over :attr:`nodes`, every ancestor of a positive label
        set positive (derived nodes included)."""
        y = np.asarray(y)
        column = {name: j for j, name in enumerate(label_names)}
        missing = [n for n in self.nodes if n not in column and n not in self.derived]
        if missing:
            raise HierarchyError(f"labels {missing[:5]} of the hierarchy are not columns of y.")
        out = np.zeros((len(y), len(self.nodes)), dtype=np.uint8)
        for i, node in enumerate(self.nodes):
            if node in column:
                out[:, i] = y[:, column[node]]
        return (np.asarray(out, dtype=np.float32) @ self.descendant_matrix().T > 0).astype(np.uint8)

    def table(self, counts: Mapping[str, int] | None = None) -> list[str]:
        """The tree as indented lines (``counts``: documents per node)."""
        lines = []

        def walk(node, depth):
            n = f" ({counts[node]})" if counts is not None and node in counts else ""
            tag = " [derived]" if node in self.derived else ""
            lines.append(f"{'    ' * depth}{node}{n}{tag}")
            for child in self.children(node):
                walk(child, depth + 1)

        for root in self.levels[0] if self.nodes else []:
            walk(root, 0)
        return lines


def expand_paths(label_sets: Sequence[Iterable[str]], separator: str = "/") -> list[list[str]]:
    """Add every prefix of a path label: ``a/b/c`` -> ``a``, ``a/b``, ``a/b/c``."""
    out = []
    for labels in label_sets:
        full = set()
        for label in labels:
            parts = label.split(separator)
            full |= {separator.join(parts[:k]) for k in range(1, len(parts) + 1)}
        out.append(sorted(full))
    return out
