"""Validation of a model document: every problem at once, each naming the node or link and field."""

from __future__ import annotations

import functools
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine import distributions, routing
from engine.distributions import DISTRIBUTION_FIELDS, finite_float
from engine.model.schema import (
    AUTOSCALE_DEFAULTS,
    AUTOSCALE_FIELDS,
    CONCURRENCY_FIELDS,
    KINDS,
    MAX_COUNT,
    MAX_RATE,
    MAX_TIME,
    TIME_RESOLUTION,
    Param,
)


# What validation reads of a model. :mod:`engine.model.document` (whose Model, Node and
# Link have these fields) imports this module, never the other way round.
class Link(Protocol):
    source: str
    target: str
    probability: Any
    latency: Any


class Node(Protocol):
    id: str
    kind: str
    params: dict[str, Any]


class Model(Protocol):
    @property
    def simulation(self) -> Any: ...
    @property
    def nodes(self) -> Any: ...
    @property
    def links(self) -> Any: ...


PROBABILITY_TOLERANCE = 1e-6
#: More points of time series than this over a run is worth a warning (not an error).
MANY_SAMPLES = 10**7


#: A :class:`Report` keeps at most this many errors and as many warnings (and their badges);
#: past that it counts them, so a file of a million bad nodes costs memory for a few.
MAX_REPORTED = 10_000


@dataclass
class Report:
    """Validation results: ``errors`` stop a run, ``warnings`` do not; ``by_node`` maps node
    ids (and ``"link N"``) to their messages, for the canvas badges.

    At most :data:`MAX_REPORTED` errors and as many warnings are kept; ``error_count`` and
    ``warning_count`` count them all, and :func:`check_document` ends a list it had to cut
    with "… and N more errors" (or warnings).
    """

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    by_node: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    error_count: int = 0
    warning_count: int = 0

    def error(self, where: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(message)
            if where is not None:
                self.by_node[where].append(message)

    def warn(self, where: str | None, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_REPORTED:
            self.warnings.append(message)
            if where is not None:
                self.by_node[where].append(message)

    def close(self) -> None:
        """Say how many problems were found but not kept, at the end of each cut list."""
        if self.error_count > len(self.errors):
            self.errors.append(f"… and {self.error_count - len(self.errors)} more errors")
        if self.warning_count > len(self.warnings):
            self.warnings.append(f"… and {self.warning_count - len(self.warnings)} more warnings")

    @property
    def ok(self) -> bool:
        return not self.errors


def _is_number(x: Any) -> bool:
    """A finite number that fits a float (JSON integers can be as large as 10**400)."""
    return finite_float(x) is not None


def check_distribution(value: Any, what: str, *, time: bool = False) -> str | None:
    """None if ``value`` is a valid distribution object, else a message naming ``what``.

    With ``time`` (a distribution of seconds) its mean must also be 0 or between
    :data:`~engine.model.schema.TIME_RESOLUTION` and :data:`~engine.model.schema.MAX_TIME`.
    """
    problem, mean = _read_distribution(value)
    if problem is not None:
        # "mean must be > 0, got -1" becomes "service_time.mean must be > 0, got -1"
        if problem.split(" ", 1)[0].split("[")[0] in _DIST_FIELD_NAMES:
            return f"{what}.{problem}"
        return f"{what}: {problem}"
    if time:
        return _check_time(mean, f"{what} mean", unit=True)
    return None


def _mean(spec: Any) -> float:
    """The mean of a distribution object (ValueError if it is none)."""
    problem, mean = _read_distribution(spec)
    if problem is not None:
        raise ValueError(problem)
    return mean


def _read_distribution(spec: Any) -> tuple[str | None, float]:
    """(problem, mean) of a distribution object. Big models repeat a few distributions
    thousands of times and making one costs far more than a dict lookup, so results are
    remembered by the object's JSON text."""
    try:
        key = json.dumps(spec, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return _read_distribution_now(spec)
    return _read_distribution_text(key)


@functools.lru_cache(maxsize=1024)
def _read_distribution_text(key: str) -> tuple[str | None, float]:
    return _read_distribution_now(json.loads(key))


def _read_distribution_now(spec: Any) -> tuple[str | None, float]:
    try:
        return None, distributions.from_spec(spec).mean
    except (TypeError, ValueError, OverflowError) as exc:
        return str(exc), math.nan


def _check_time(value: float, what: str, *, unit: bool = False, zero: bool = True) -> str | None:
    """A message if ``value`` seconds is below the time resolution (but not 0, when ``zero``
    allows it) or above :data:`MAX_TIME`, else None."""
    s = " s" if unit else ""
    if (value > 0 or not zero) and value < TIME_RESOLUTION:
        allowed = "0 or at least" if zero else "at least"
        return (
            f"{what} must be {allowed} {TIME_RESOLUTION:g}{s or ' s'} (the engine's time resolution: its clock "
            f"counts nanoseconds), got {value:g}{s}"
        )
    if value > MAX_TIME:
        return (
            f"{what} must be at most {MAX_TIME:g}{s or ' s'} (about 292 years: 2^63 nanoseconds, the range of the "
            f"engine's clock), got {value:g}{s}"
        )
    return None


_DIST_FIELD_NAMES = {field for fields in DISTRIBUTION_FIELDS.values() for field in fields} | {"dist"}


def _check_param(spec: Param, value: Any) -> str | None:
    name = spec.name
    if value is None:
        return None if spec.nullable or not spec.required else f"{name} is required"
    if spec.type == "dist":
        return check_distribution(value, name, time=spec.unit == "s")
    if spec.type == "choice":
        if value not in spec.choices:
            return f"{name} must be one of {', '.join(spec.choices)}, got {value!r}"
        return None
    if spec.type == "profile":
        return _check_profile(value)
    if spec.type == "concurrency":
        return _check_concurrency(value)
    if spec.type == "int" and (not isinstance(value, int) or isinstance(value, bool)):
        return f"{name} must be an integer, got {value!r}"
    if spec.type == "int" and value > MAX_COUNT:
        return f"{name} must be <= {MAX_COUNT:g}, got {value!r}"
    if not _is_number(value):
        return f"{name} must be a finite number, got {value!r}"
    if spec.minimum is not None:
        if spec.exclusive_minimum and value <= spec.minimum:
            return f"{name} must be > {spec.minimum:g}, got {value!r}"
        if value < spec.minimum:
            why = f" ({spec.why_minimum})" if spec.why_minimum else ""
            return f"{name} must be >= {spec.minimum:.3g}{why}, got {value!r}"
    if spec.maximum is not None and value > spec.maximum:
        why = f" ({spec.why_maximum})" if spec.why_maximum else ""
        return f"{name} must be <= {spec.maximum:g}{why}, got {value!r}"
    return None


def _check_profile(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return f"profile must be a non-empty list of [t, rate] pairs, got {value!r}"
    last = -math.inf
    for i, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2 or not all(_is_number(v) for v in pair):
            return f"profile[{i}] must be [t, rate] numbers, got {pair!r}"
        t, r = pair
        if t < 0 or r < 0:
            return f"profile[{i}]: time and rate must be >= 0, got {pair!r}"
        if t <= last:
            return f"profile[{i}]: times must increase, got {t!r} after {last!r}"
        if r > MAX_RATE:
            return (
                f"profile[{i}]: rate must be <= {MAX_RATE:g} (one arrival per nanosecond, the engine's "
                f"time resolution), got {r!r}"
            )
        problem = _check_time(float(t), f"profile[{i}]: time")
        if problem:
            return problem
        last = t
    return None


def _positive_int(obj: dict[str, Any], key: str, where: str, minimum: int = 1) -> str | None:
    v = obj.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        return f"{where}.{key} must be an integer >= {minimum}, got {v!r}"
    if v > MAX_COUNT:
        return f"{where}.{key} must be <= {MAX_COUNT:g}, got {v!r}"
    return None


def _check_concurrency(value: Any) -> str | None:
    if isinstance(value, bool):
        return f"concurrency must be an integer or an object, got {value!r}"
    if isinstance(value, int):
        if value > MAX_COUNT:
            return f"concurrency must be <= {MAX_COUNT:g}, got {value!r}"
        return None if value >= 1 else f"concurrency must be >= 1, got {value!r}"
    if not isinstance(value, dict):
        return f"concurrency must be an integer or an object, got {value!r}"
    kind = value.get("kind")
    if not isinstance(kind, str) or kind not in CONCURRENCY_FIELDS:
        return f"concurrency.kind must be one of {', '.join(CONCURRENCY_FIELDS)}, got {kind!r}"
    required, optional = CONCURRENCY_FIELDS[kind]
    unknown = sorted(set(value) - {"kind", *required, *optional})
    if unknown:
        return f"concurrency: unknown field {unknown[0]!r} for {kind} concurrency"
    for key in required:
        if key not in value:
            return f"concurrency.{key} is required for {kind} concurrency"
    if kind == "fixed":
        return _positive_int(value, "c", "concurrency")
    if kind == "weighted":
        problem = _positive_int(value, "total_capacity", "concurrency")
        if problem is None and value.get("weight") is not None:
            problem = check_distribution(value["weight"], "concurrency.weight")
        return problem
    for key in ("initial", "min", "max"):
        if key in value and (value[key] is not None or key != "max"):
            problem = _positive_int(value, key, "concurrency")
            if problem:
                return problem
    lo, hi, init = value.get("min") or 1, value.get("max"), value["initial"]
    if hi is not None and hi < lo:
        return f"concurrency.max ({hi}) must be >= concurrency.min ({lo})"
    if init < lo or (hi is not None and init > hi):
        return f"concurrency.initial ({init}) must lie between min ({lo}) and max ({hi})"
    auto = value.get("autoscale")
    if auto is not None:
        if not isinstance(auto, dict):
            return f"concurrency.autoscale must be an object, got {auto!r}"
        unknown = sorted(set(auto) - set(AUTOSCALE_FIELDS))
        if unknown:
            return f"concurrency.autoscale: unknown field {unknown[0]!r}"
        target = auto.get("target_utilization", AUTOSCALE_DEFAULTS["target_utilization"])
        if not _is_number(target) or not 0 < target < 1:
            return f"concurrency.autoscale.target_utilization must be between 0 and 1, got {target!r}"
        interval = auto.get("interval", AUTOSCALE_DEFAULTS["interval"])
        if not _is_number(interval) or interval <= 0:
            return f"concurrency.autoscale.interval must be > 0 seconds, got {interval!r}"
        problem = _check_time(float(interval), "concurrency.autoscale.interval", zero=False)
        if problem:
            return problem
        step = auto.get("step", AUTOSCALE_DEFAULTS["step"])
        if not isinstance(step, int) or isinstance(step, bool) or step < 1:
            return f"concurrency.autoscale.step must be an integer >= 1, got {step!r}"
        if step > MAX_COUNT:
            return f"concurrency.autoscale.step must be <= {MAX_COUNT:g}, got {step!r}"
        band = auto.get("band", AUTOSCALE_DEFAULTS["band"])
        if not _is_number(band) or not 0 <= band < 1:
            return f"concurrency.autoscale.band must be between 0 and 1, got {band!r}"
    return None


def identity_problems(model: Model) -> list[tuple[str, str]]:
    """(where, message) for what breaks the document's identity rules: two nodes with one
    id, a link naming no node, a second link between the same two nodes. The editor cannot
    hold such a document, so :func:`engine.model.opens_model` refuses it outright."""
    found: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    for node in model.nodes:
        counts[node.id] = counts.get(node.id, 0) + 1
    for node_id, count in counts.items():
        if count > 1:
            found.append((node_id, f"node {node_id!r}: id used by {count} nodes"))
    seen: set[tuple[str, str]] = set()
    for i, link in enumerate(model.links):
        where = f"link {i}"
        known = True
        for end in (link.source, link.target):
            if end not in counts:
                found.append((where, f"{where}: unknown node {end!r}"))
                known = False
        if not known:
            continue
        if (link.source, link.target) in seen:
            found.append((where, f"{where}: a second link from {link.source!r} to {link.target!r}"))
        seen.add((link.source, link.target))
    return found


def check_document(model: Model, *, check_graph: bool = True) -> Report:
    """Check ``model``; graph problems (unreachable nodes, dead ends) are errors when
    ``check_graph`` is true and warnings otherwise.

    Runs in time and memory linear in the size of the model: links are indexed by their
    source once.
    """
    report = Report()
    _check_simulation(model, report)
    settings_errors = report.error_count  # they do not stop the load check
    for where, message in identity_problems(model):
        report.error(where, message)
    for node in model.nodes:
        _check_node(node, report)
    outs = out_link_index(model)
    _check_links(model, outs, report)
    graph_problem = report.error if check_graph else report.warn
    structurally_ok = report.error_count == settings_errors
    _check_graph(model, outs, graph_problem)
    if structurally_ok:
        _check_load(model, report)
    report.close()
    return report


def out_link_index(model: Model) -> dict[str, list[Link]]:
    """Every node's out-links in document order, found in one pass over the links (asking
    :meth:`Model.out_links` node by node is quadratic)."""
    outs: dict[str, list[Link]] = {}
    for link in model.links:
        outs.setdefault(link.source, []).append(link)
    return outs


def _check_simulation(model: Model, report: Report) -> None:
    sim = model.simulation
    values: dict[str, float] = {}
    for key in ("end_time", "warmup", "sample_interval"):
        raw = getattr(sim, key)
        value = finite_float(raw)
        if value is None:
            report.error(None, f"simulation: {key} must be a finite number, got {raw!r}")
            continue
        strict = key != "warmup"
        if value < 0 or (strict and value == 0):
            report.error(None, f"simulation: {key} must be {'>' if strict else '>='} 0, got {value:g}")
            continue
        problem = _check_time(value, f"simulation: {key}", zero=not strict)
        if problem:
            report.error(None, problem)
            continue
        values[key] = value
    seed = sim.seed
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        report.error(None, f"simulation: seed must be an integer >= 0 or null, got {seed!r}")
    end, warmup = values.get("end_time"), values.get("warmup")
    if end is not None and warmup is not None and warmup >= end:
        report.error(None, f"simulation: warmup ({warmup:g}) must be less than end_time ({end:g})")
    interval = values.get("sample_interval")
    if end is not None and interval is not None and end / interval > MANY_SAMPLES:
        report.warn(
            None,
            f"simulation: sample_interval {interval:g} s gives {end / interval:.3g} points of time series "
            f"over end_time {end:g} s; sampling that often slows the run, and a recorded series grows with it",
        )


def _check_node(node: Any, report: Report) -> None:
    where = f"node {node.id!r}"
    kind = KINDS.get(node.kind)
    if kind is None:
        report.error(node.id, f"{where}: unknown kind {node.kind!r} (expected one of {', '.join(KINDS)})")
        return
    for key in node.params:
        if kind.param(key) is None:
            known = ", ".join(p.name for p in kind.params) or "none"
            report.error(node.id, f"{where}: unknown parameter {key!r} for a {node.kind} (known: {known})")
    for spec in kind.params:
        if spec.name in node.params or spec.required:
            problem = _check_param(spec, node.params.get(spec.name))
            if problem:
                report.error(node.id, f"{where}: {problem}")
    if kind.check is not None:
        for problem in kind.check(node.params):
            report.error(node.id, f"{where}: {problem}")


def _check_links(model: Model, outs: dict[str, list[Link]], report: Report) -> None:
    kinds = {n.id: KINDS.get(n.kind) for n in model.nodes}
    for i, link in enumerate(model.links):
        where = f"link {i}"
        if not _probability_ok(link.probability):
            prob = finite_float(link.probability)
            shown = f"{prob:g}" if prob is not None else repr(link.probability)
            report.error(where, f"{where}: probability must be a number between 0 and 1, got {shown}")
        if link.source not in kinds or link.target not in kinds:
            continue
        into, out_of = kinds[link.target], kinds[link.source]
        if into is not None and not into.has_input:
            report.error(where, f"{where}: cannot link into {into.name} {link.target!r}")
        if out_of is not None and not out_of.has_output:
            report.error(where, f"{where}: cannot link out of {out_of.name} {link.source!r}")
        if link.latency is not None:
            problem = check_distribution(link.latency, "latency", time=True)
            if problem:
                report.error(where, f"{where}: {problem}")
    for node in model.nodes:
        node_outs = outs.get(node.id, [])
        probs = [link.probability for link in node_outs]
        kind = kinds[node.id]
        if kind is not None and kind.chooses_link:
            if any(p is not None for p in probs):
                report.warn(
                    node.id, f"node {node.id!r}: a {kind.name} chooses by its policy; link probabilities are ignored"
                )
            continue
        if not node_outs or all(p is None for p in probs):
            if len(node_outs) > 1:
                report.error(
                    node.id,
                    f"node {node.id!r}: {len(node_outs)} out-links need probabilities (or put a router after it)",
                )
            continue
        if any(p is None for p in probs):
            report.error(node.id, f"node {node.id!r}: give every out-link a probability, or none")
            continue
        if not all(_probability_ok(p) for p in probs):
            continue  # each bad one is reported on its link
        total = math.fsum(finite_float(p) or 0.0 for p in probs)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            report.error(node.id, f"node {node.id!r}: out-link probabilities sum to {total:g}, not 1")


def _probability_ok(p: Any) -> bool:
    """None (no probability) or a number from 0 to 1."""
    if p is None:
        return True
    x = finite_float(p)
    return x is not None and 0 <= x <= 1


def _check_graph(model: Model, outs: dict[str, list[Link]], problem: Any) -> None:
    succ: dict[str, list[str]] = defaultdict(list)
    pred: dict[str, list[str]] = defaultdict(list)
    ids = {n.id for n in model.nodes}
    # A node linked to an unknown node is reported for that link; where it leads is unknown.
    dangling = {link.source for link in model.links if link.target not in ids}
    for link in model.links:
        if link.source not in ids or link.target not in ids:
            continue
        succ[link.source].append(link.target)
        pred[link.target].append(link.source)
    # Requests start at nodes nothing links into (sources) and end at nodes nothing leaves (sinks).
    loops = {n.id for n in model.nodes if _kind_has(n.kind, "closes_loop", False)}
    entering = {n.id for n in model.nodes if not _kind_has(n.kind, "has_input")} | loops
    leaving = {n.id for n in model.nodes if not _kind_has(n.kind, "has_output")} | loops
    sources = [n.id for n in model.nodes if n.id in entering]
    sinks = [n.id for n in model.nodes if n.id in leaving]
    if not sources:
        problem(None, "the model has no source: nothing will arrive")
    reachable = _closure(sources, succ)
    exits = _closure(sinks, pred)
    for name in dict.fromkeys(n.kind for n in model.nodes if n.kind in KINDS):
        kind = KINDS[name]
        if kind.graph_check is not None:
            for where, message in kind.graph_check(model):
                problem(where, message)
    for node in model.nodes:
        if node.id in loops:
            continue  # its kind's graph check speaks for it
        if node.id not in leaving and not outs.get(node.id):
            problem(node.id, f"node {node.id!r} has no out-link: its requests have nowhere to go (link it to a sink)")
        elif node.id not in entering and node.id not in reachable:
            problem(node.id, f"node {node.id!r} is unreachable from any source")
        elif node.id not in leaving and node.id not in exits and node.id not in dangling:
            problem(node.id, f"node {node.id!r}: requests that reach it can never leave (a cycle without exit)")


def _kind_has(kind: str, flag: str, unknown: bool = True) -> bool:
    """The kind's ``flag`` (``has_input`` / ``has_output`` / ``closes_loop``); ``unknown``
    for an unknown kind."""
    entry = KINDS.get(kind)
    return unknown if entry is None else bool(getattr(entry, flag))


def _closure(start: list[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(start)
    stack = list(start)
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


# ------------------------------------------------------------------ flows
def model_routing(model: Model) -> routing.Routing:
    """The sparse routing of ``model`` for the traffic equations (:mod:`engine.routing`).

    External arrivals are each node kind's :attr:`~engine.model.schema.Kind.arrivals`
    (a source's λ; 0 where it cannot be computed). A node that chooses its out-link by
    policy (a router) splits evenly over its out-links, any other node by its links'
    probabilities (evenly if none is given); nothing leaves a node without output (a
    sink); links to unknown nodes are ignored; a node whose shares add up to more than 1
    (an error the validator reports) is scaled down to 1.
    """
    ids = [n.id for n in model.nodes]
    index = {node_id: i for i, node_id in enumerate(ids)}
    outs: dict[str, list[Link]] = {}
    for link in model.links:
        if link.target in index:
            outs.setdefault(link.source, []).append(link)
    gamma = [0.0] * len(ids)
    edges: list[dict[int, float]] = [{} for _ in ids]
    for node in model.nodes:
        i = index[node.id]
        kind = KINDS.get(node.kind)
        if kind is not None and kind.arrivals is not None:
            try:
                gamma[i] = kind.arrivals(kind.resolve(node.params), 0.0)
            except (TypeError, ValueError, OverflowError, KeyError, AttributeError):
                gamma[i] = 0.0
        links = outs.get(node.id, [])
        if not links or (kind is not None and not kind.has_output):
            continue
        row = edges[i]
        for link in links:
            p = None if kind is not None and kind.chooses_link else _share(link.probability)
            share = p if p is not None else 1.0 / len(links)
            j = index[link.target]
            row[j] = row.get(j, 0.0) + share
        total = sum(row.values())
        if total > 1.0:
            for j in row:
                row[j] /= total
    return routing.Routing(ids, gamma, edges)


def _share(value: Any) -> float | None:
    x = finite_float(value)
    return None if x is None else max(0.0, x)


def arrival_rates(model: Model) -> dict[str, float]:
    """Long-run arrival rate per second at every node from the traffic equations λ = γ + Pᵀλ
    (``inf`` where the flow enters a loop it can never leave, ``nan`` where the sparse
    solver gave up): :func:`model_routing` solved by :func:`engine.routing.solve_traffic`,
    linear in nodes plus links for the usual networks, never an N×N matrix."""
    found = model_routing(model)
    traffic = routing.solve_traffic(found.gamma, found.edges)
    return dict(zip(found.ids, traffic.rates, strict=True))


def offered_load(node: Any, arrival_rate: float) -> float | None:
    """ρ = λ·E[S]·demand/capacity of a station (its kind's
    :meth:`~engine.model.schema.Kind.service`), or None for nodes without one (sources,
    routers, sinks, delays) and for parameters that do not make a station."""
    kind = KINDS.get(node.kind)
    if kind is None:
        return None
    try:
        service = kind.service(kind.resolve(node.params))
        return None if service is None else service.offered_load(arrival_rate)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None


def _check_load(model: Model, report: Report) -> None:
    rates = arrival_rates(model)
    unknown = sum(1 for rate in rates.values() if math.isnan(rate))
    if unknown:
        report.warn(
            None,
            f"the load check skips {unknown} nodes: the traffic equations of this network are too "
            "large to solve here, so their arrival rates are unknown",
        )
    for node in model.nodes:
        kind = KINDS[node.kind]
        service = kind.service(kind.resolve(node.params))
        if service is None:
            continue
        rho = service.offered_load(rates.get(node.id, 0.0))
        if rho is None or not rho >= 1:  # nan (an unknown rate) is no overload
            continue
        if service.queue_capacity is None:
            report.warn(
                node.id,
                f"node {node.id!r}: offered load ρ = {rho:.3g} ≥ 1 with an unbounded queue; "
                "the queue will grow without limit",
            )
