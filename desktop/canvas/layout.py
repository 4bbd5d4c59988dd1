"""The "Arrange" action: a left-to-right layered layout of the model graph (Qt-free).

Back edges of cycles are set aside, every node goes in the column of the longest path
that reaches it, sinks share the last column, and a few barycentre sweeps order each
column to reduce crossings. The result is snapped to the grid. Last, no link may be drawn
behind a node: a node lying on the drawn path of a link between two others (a link that
skips columns, a feedback link) is moved up or down out of its way.
"""

from __future__ import annotations

from collections import defaultdict

from engine.model import Model

COLUMN_GAP = 260.0
ROW_GAP = 110.0
GRID = 20.0
SWEEPS = 4
#: A node card's size (desktop.canvas.node_item.WIDTH, HEIGHT; this module stays Qt-free).
NODE_W, NODE_H = 168.0, 62.0
#: Points along each link's curve tested against the node cards, and the clearance kept.
CURVE_SAMPLES, CLEARANCE = 32, 6.0
#: Above this many (link, node) pairs, the link clearing pass is skipped (its cost grows with it).
MAX_CLEARING_PAIRS = 20_000


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
    links = [(lk.source, lk.target) for lk in model.links if lk.source != lk.target]
    if len(links) * len(ids) <= MAX_CLEARING_PAIRS:
        _clear_links(positions, links)
    return positions


def curve_points(start: tuple[float, float], end: tuple[float, float]) -> list[tuple[float, float]]:
    """Points along a link's drawn curve (the horizontal-tangent cubic of
    ``desktop.canvas.link_item.bezier``) from an output port to an input port."""
    (x0, y0), (x3, y3) = start, end
    dx = max(50.0, abs(x3 - x0) * 0.5)
    x1, y1, x2, y2 = x0 + dx, y0, x3 - dx, y3
    points = []
    for i in range(1, CURVE_SAMPLES):
        t = i / CURVE_SAMPLES
        a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
        points.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
    return points


def blocked_links(
    positions: dict[str, tuple[float, float]], links: list[tuple[str, str]]
) -> list[tuple[str, str, str]]:
    """``(source, target, node)`` for every node whose card lies on the drawn curve of a link
    between two other nodes."""
    found = []
    for source, target in links:
        if source not in positions or target not in positions:
            continue
        sx, sy = positions[source]
        tx, ty = positions[target]
        points = curve_points((sx + NODE_W, sy + NODE_H / 2), (tx, ty + NODE_H / 2))
        for node, (x, y) in positions.items():
            if node in (source, target):
                continue
            left, top, right, bottom = x - CLEARANCE, y - CLEARANCE, x + NODE_W + CLEARANCE, y + NODE_H + CLEARANCE
            if any(left <= px <= right and top <= py <= bottom for px, py in points):
                found.append((source, target, node))
    return found


def _overlaps(positions: dict[str, tuple[float, float]], node: str, at: tuple[float, float]) -> bool:
    x, y = at
    return any(
        other != node and abs(ox - x) < NODE_W + 2 * GRID and abs(oy - y) < NODE_H + GRID
        for other, (ox, oy) in positions.items()
    )


def _clear_links(positions: dict[str, tuple[float, float]], links: list[tuple[str, str]]) -> None:
    """Move nodes that hide a link up or down (the smallest move that hides fewer links and
    overlaps no card), until none does or no move helps."""
    blocked = blocked_links(positions, links)
    for _ in range(4 * len(positions)):
        if not blocked:
            return
        best = None
        for _source, _target, node in blocked:
            x, y = positions[node]
            for step in (1, -1, 2, -2, 3, -3, 4, -4):
                at = (x, _snap(y + step * ROW_GAP / 2))
                if _overlaps(positions, node, at):
                    continue
                trial = {**positions, node: at}
                count = len(blocked_links(trial, links))
                if count < len(blocked) and (best is None or count < best[0]):
                    best = (count, node, at)
                if best is not None and best[0] == 0:
                    break
            if best is not None:
                break
        if best is None:
            return
        positions[best[1]] = best[2]
        blocked = blocked_links(positions, links)


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
