"""Sparse routing and the traffic equations λ = γ + Pᵀλ, without an N×N matrix.

A model's routing is kept as one dict of shares per node (``edges[i][j]`` = the share of
node i's output that goes to node j), so memory is linear in the links. The traffic
equations are solved by Gaussian elimination on that sparse structure in the form of
Grassmann, Taksar and Heyman (GTH): eliminating a node reroutes the flow through it to its
successors, every pivot is a sum of non-negative numbers (never a difference), and nodes
are eliminated fewest-connections first, so chains, trees and rings of any length cost
time linear in their size and create no fill. Networks whose elimination would fill in
(many nodes all linked to each other) fall back to a dense solve up to 2,000 nodes and
to a bounded iteration beyond.

This module knows nothing of model documents: :func:`engine.model.validate.model_routing`
reads a model's routing (each node kind's external arrivals and splitting rule) from its
kind entries.

The nodes of a closed class (a loop that requests can never leave) get the rate ``inf`` if
anything flows into it and 0 otherwise; :attr:`Traffic.trapped` lists them. Nodes that
only lead into such a loop keep their finite rates.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Routing", "Traffic", "solve_traffic", "components"]

#: A row whose shares leave less than this unrouted has no exit (rounding, not a leak).
EXIT_TOLERANCE = 1e-9
#: Elimination work (pairs of a node's in- and out-links) allowed before the iteration
#: fallback takes over, on top of a budget linear in the size of the network.
FILL_BUDGET = 2_000_000
#: Densely linked networks up to this many nodes are solved with a dense matrix instead
#: (at most 32 MB and a fraction of a second).
DENSE_LIMIT = 2000
#: Work (edge updates) allowed for the iteration fallback.
ITERATION_BUDGET = 50_000_000


@dataclass(frozen=True)
class Routing:
    """Node ids, external arrival rates per second and sparse routing shares.

    ``gamma[i]`` is the rate arriving at node ``ids[i]`` from outside (a source's own
    rate); ``edges[i]`` maps a node index j to the share of node i's output sent to j.
    """

    ids: list[str]
    gamma: list[float]
    edges: list[dict[int, float]]


@dataclass(frozen=True)
class Traffic:
    """The solution of the traffic equations: ``rates[i]`` per second (``inf`` where flow
    enters a loop it can never leave), ``trapped`` the indices of the nodes of such loops
    (closed classes, whether or not anything enters them), ``converged`` False if the iteration fallback ran out of budget (its
    ``rates`` are then ``nan``)."""

    rates: list[float]
    trapped: list[int]
    converged: bool = True


def components(n: int, succ: Sequence[Sequence[int]]) -> list[list[int]]:
    """The strongly connected components of the graph ``succ`` (node i links to each of
    ``succ[i]``), each a list of node indices, downstream components first.

    Tarjan's algorithm with an explicit stack instead of recursion, so a chain or ring of
    any length is fine; time and memory linear in nodes plus links.
    """
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    found: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, iter(succ[root]))]
        while work:
            v, children = work[-1]
            for w in children:
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, iter(succ[w])))
                    break
                if on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            else:  # every successor of v is done
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack[w] = False
                        component.append(w)
                        if w == v:
                            break
                    found.append(component)
    return found


def _closed(n: int, edges: Sequence[dict[int, float]], exits: list[float]) -> list[bool]:
    """Nodes of closed classes: components that nothing leaves (no exit, no link out)."""
    succ = [[j for j, share in row.items() if share > 0] for row in edges]
    closed = [False] * n
    for component in components(n, succ):
        members = set(component)
        if all(exits[i] == 0 and all(j in members for j in succ[i]) for i in component):
            for i in component:
                closed[i] = True
    return closed


def solve_traffic(gamma: Sequence[float], edges: Sequence[dict[int, float]]) -> Traffic:
    """Solve λ_j = γ_j + Σ_i λ_i·edges[i][j] for every node j.

    ``gamma`` holds non-negative external rates (``inf`` allowed), ``edges[i]`` the
    non-negative shares of node i's output, summing to at most 1 (the rest leaves the
    network). Rates are exact up to rounding; see the module docstring for the method.
    """
    n = len(gamma)
    exits = []
    for i, row in enumerate(edges):
        left = 1.0 - sum(s for j, s in row.items() if j != i) - row.get(i, 0.0)
        exits.append(left if left > EXIT_TOLERANCE else 0.0)
    trapped = _closed(n, edges, exits)
    # Flow into a closed class never comes back: for the others it is an exit.
    succ: list[dict[int, float]] = [{} for _ in range(n)]
    pred: list[dict[int, float]] = [{} for _ in range(n)]
    gam = [float(g) for g in gamma]
    for i, row in enumerate(edges):
        if trapped[i]:
            continue
        for j, share in row.items():
            if share <= 0 or j == i:
                continue  # a self-loop only changes a pivot, which GTH never needs
            if trapped[j]:
                exits[i] += share
            else:
                succ[i][j] = succ[i].get(j, 0.0) + share
                pred[j][i] = pred[j].get(i, 0.0) + share
    rates = _eliminate(gam, succ, pred, exits, trapped)
    if rates is None:
        rates = _dense(gamma, edges, trapped) if n - sum(trapped) <= DENSE_LIMIT else None
    if rates is None:
        rates = _iterate(gamma, edges, trapped)
        if rates is None:
            return Traffic([math.nan] * n, [i for i in range(n) if trapped[i]], converged=False)
    _fill_trapped(rates, gamma, edges, trapped)
    return Traffic(rates, [i for i in range(n) if trapped[i]])


def _eliminate(
    gam: list[float],
    succ: list[dict[int, float]],
    pred: list[dict[int, float]],
    exits: list[float],
    trapped: list[bool],
) -> list[float] | None:
    """GTH elimination, fewest in×out links first; None if it would fill in too much."""
    n = len(gam)
    budget = FILL_BUDGET + 20 * (n + sum(len(s) for s in succ))
    heap = [(len(pred[v]) * len(succ[v]), v) for v in range(n) if not trapped[v]]
    heapq.heapify(heap)
    done = [False] * n
    order: list[tuple[int, float, float, list[tuple[int, float]]]] = []
    while heap:
        cost, v = heapq.heappop(heap)
        if done[v]:
            continue
        now = len(pred[v]) * len(succ[v])
        if now > cost:
            heapq.heappush(heap, (now, v))
            continue
        budget -= now + 1
        if budget < 0:
            return None
        done[v] = True
        out = succ[v]
        pivot = exits[v] + sum(out.values())  # = 1 − P[v, v], as a sum of non-negatives
        ins = list(pred[v].items())
        order.append((v, pivot, gam[v], ins))
        inv = 1.0 / pivot if pivot > 0 else 0.0
        if gam[v] > 0:
            for s, q in out.items():
                gam[s] += gam[v] * q * inv
        for s in out:
            del pred[s][v]
        for u, p in ins:
            f = p * inv
            row = succ[u]
            del row[v]
            exits[u] += f * exits[v] if pivot > 0 else p
            for s, q in out.items():
                if s != u:
                    w = f * q
                    row[s] = row.get(s, 0.0) + w
                    pred[s][u] = pred[s].get(u, 0.0) + w
            heapq.heappush(heap, (len(pred[u]) * len(row), u))
        for s in out:
            heapq.heappush(heap, (len(pred[s]) * len(succ[s]), s))
    rates = [0.0] * n
    for v, pivot, g, ins in reversed(order):
        flow = g + sum(rates[u] * p for u, p in ins)
        rates[v] = flow / pivot if pivot > 0 else (math.inf if flow > 0 else 0.0)
    return rates


def _dense(gamma: Sequence[float], edges: Sequence[dict[int, float]], trapped: list[bool]) -> list[float] | None:
    """The untrapped nodes' equations solved with a dense matrix (None if it fails)."""
    keep = [i for i in range(len(gamma)) if not trapped[i]]
    where = {i: k for k, i in enumerate(keep)}
    m = np.eye(len(keep))
    for i in keep:
        for j, share in edges[i].items():
            if j in where:
                m[where[j], where[i]] -= share
    rhs = np.array([float(gamma[i]) for i in keep])
    if not np.all(np.isfinite(rhs)):
        return None
    try:
        solved = np.linalg.solve(m, rhs)
    except np.linalg.LinAlgError:
        return None
    rates = [0.0] * len(gamma)
    for k, i in enumerate(keep):
        rates[i] = max(0.0, float(solved[k]))
    return rates


def _iterate(gamma: Sequence[float], edges: Sequence[dict[int, float]], trapped: list[bool]) -> list[float] | None:
    """λ ← γ + Pᵀλ on the untrapped nodes until it settles (None if the budget runs out)."""
    n = len(gamma)
    src, dst, share = [], [], []
    for i, row in enumerate(edges):
        if trapped[i]:
            continue
        for j, s in row.items():
            if s > 0 and not trapped[j]:
                src.append(i)
                dst.append(j)
                share.append(s)
    g = np.array([0.0 if trapped[i] else float(x) for i, x in enumerate(gamma)])
    if not np.all(np.isfinite(g)):
        return None
    si, di, w = np.array(src, dtype=np.intp), np.array(dst, dtype=np.intp), np.array(share)
    lam = g.copy()
    for _ in range(max(1, ITERATION_BUDGET // max(1, len(w)))):
        new = g + np.bincount(di, weights=lam[si] * w, minlength=n)
        if np.allclose(new, lam, rtol=1e-13, atol=0.0):
            return [float(x) for x in new]
        lam = new
    return None


def _fill_trapped(
    rates: list[float], gamma: Sequence[float], edges: Sequence[dict[int, float]], trapped: list[bool]
) -> None:
    """Nodes of closed classes: ``inf`` if any flow enters their class, else 0 (in place)."""
    n = len(rates)
    fed = deque(i for i in range(n) if trapped[i] and gamma[i] > 0)
    for i, row in enumerate(edges):
        if not trapped[i] and rates[i] > 0:
            fed.extend(j for j, s in row.items() if trapped[j] and s > 0)
    for i in range(n):
        if trapped[i]:
            rates[i] = 0.0
    while fed:  # a closed class is strongly connected: flow anywhere in it reaches all of it
        j = fed.popleft()
        if rates[j] == math.inf:
            continue
        rates[j] = math.inf
        fed.extend(k for k, s in edges[j].items() if trapped[k] and s > 0 and rates[k] != math.inf)
