"""The "Arrange" action: a left-to-right layered layout of the model graph (Qt-free).

Back edges of cycles are set aside, every node goes in the column of the longest path
that reaches it, sinks share the last column, and a few barycentre sweeps order each
column to reduce crossings. The result is snapped to the grid.
"""

from __future__ import annotations

from collections import defaultdict

from engine.model import Model

COLUMN_GAP = 260.0
ROW_GAP = 110.0
GRID = 20.0
SWEEPS = 4


def arrange(model: Model) -> dict[str, tuple[float, float]]:
    """New top-left positions for every node of ``model``, columns left to right."""
    ids = [n.id for n in model.nodes]
    if not ids:
        return {}
    edges = _acyclic_edges(model, ids)
    layer = _layers(ids, edges, {n.id for n in model.nodes if n.kind == "sink"})
    columns: dict[int, list[str]] = defaultdict(list)
    for node_id in ids:
        columns[layer[node_id]].append(node_id)
    _order(columns, edges)
    positions: dict[str, tuple[float, float]] = {}
    for col, members in columns.items():
        top = -(len(members) - 1) * ROW_GAP / 2
        for row, node_id in enumerate(members):
            positions[node_id] = (_snap(col * COLUMN_GAP), _snap(top + row * ROW_GAP))
    return positions


def _snap(value: float) -> float:
    return round(value / GRID) * GRID


def _acyclic_edges(model: Model, ids: list[str]) -> list[tuple[str, str]]:
    """The links minus the back edges found by a depth-first search from the sources."""
    succ: dict[str, list[str]] = defaultdict(list)
    for link in model.links:
        if link.source != link.target:
            succ[link.source].append(link.target)
    kinds = {n.id: n.kind for n in model.nodes}
    roots = [i for i in ids if kinds[i] == "source"] + ids
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    keep: list[tuple[str, str]] = []
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif child not in state:
                keep.append((node, child))
                state[child] = 1
                stack.append((child, iter(succ[child])))
            elif state[child] == 2:
                keep.append((node, child))
    return keep


def _layers(ids: list[str], edges: list[tuple[str, str]], sinks: set[str]) -> dict[str, int]:
    """Longest-path layering in topological order; sinks go to the last column."""
    preds: dict[str, list[str]] = defaultdict(list)
    indegree = dict.fromkeys(ids, 0)
    succ: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        preds[b].append(a)
        succ[a].append(b)
        indegree[b] += 1
    ready = [i for i in ids if indegree[i] == 0]
    layer: dict[str, int] = {}
    while ready:
        node = ready.pop(0)
        layer[node] = max((layer[p] + 1 for p in preds[node]), default=0)
        for nxt in succ[node]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    last = max(layer.values(), default=0)
    for sink in sinks:
        if preds[sink]:
            layer[sink] = last
    return layer


def _order(columns: dict[int, list[str]], edges: list[tuple[str, str]]) -> None:
    """Reorder each column by the mean row of its neighbours, sweeping both ways."""
    preds: dict[str, list[str]] = defaultdict(list)
    succ: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        preds[b].append(a)
        succ[a].append(b)
    keys = sorted(columns)
    for sweep in range(SWEEPS):
        row = {node: i for col in columns.values() for i, node in enumerate(col)}
        sequence = keys[1:] if sweep % 2 == 0 else list(reversed(keys[:-1]))
        neighbours = preds if sweep % 2 == 0 else succ
        for key in sequence:
            members = columns[key]
            weights = {}
            for index, node in enumerate(members):
                near = [row[n] for n in neighbours[node] if n in row]
                weights[node] = sum(near) / len(near) if near else float(index)
            members.sort(key=weights.__getitem__)
            row.update({node: i for i, node in enumerate(members)})
