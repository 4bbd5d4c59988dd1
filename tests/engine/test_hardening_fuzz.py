"""A hostile mutation fuzzer over the bundled examples (issue 16, "How to know it holds").

Every case starts from one of ``resources/examples/*.json`` and applies a few random
mutations: nasty values anywhere (0, -0, 1e-300, 5e-324, 1e308, NaN/Infinity literals and
strings, bools, null, 10**400, a 5,000-digit integer, ``1e400``, lone surrogates, very long
strings), node kinds swapped, random links, self-loops, feedback cycles, two routers linked
to each other, long chains of zero-delay stations, renamed ids, and extreme but valid
parameters (rates of 1e308, times of 1e-300, capacities and concurrencies of 10**9, erlang
``k`` of 10**400...). The document then goes through the whole headless path:

1. ``opens_model`` (when the engine has it): the lenient open may refuse only with
   ``ModelError``, and whatever it opens must save (``dumps_model``) and open again;
2. ``loads_model``: ``ModelError`` is a *clean refusal*; an accepted model must save and
   load again;
3. the time horizon is scaled down so that the run needs a few thousand events (but never
   below a microsecond, so a clock creeping by denormals still shows), then
   ``queuestudio run`` itself (``engine.cli.main``) runs it, with ``--csv`` and ``--json``
   (to a file or to stdout), sometimes with two replications, printing to a console whose
   encoding is UTF-8, cp1252 or ASCII (strict, as a real console is);
4. the outcome is one of: **refused** (``ModelError``), **good** (exit status 0, the JSON
   parses, the CSV is readable), **stalled** (``engine.SimulationStalled``: the run does not
   advance, reported cleanly), or a **FAILURE**: any other exception, a non-zero exit that is
   neither a refusal nor a stall, unreadable output, or no answer within the time bound.

Each case runs in a worker process (with a 2 GB address-space limit, so a theory step that
allocates gigabytes fails with ``MemoryError`` instead of taking the machine down). A case
that does not answer within the time bound (default 20 s, which only catches a hang) is
stopped by ``faulthandler``, whose stack dump names where it hung, and the worker restarts.

In CI the test runs ``QUEUESTUDIO_FUZZ_EXAMPLES`` cases (default 250), derandomized so a
failure is the same run after run. A longer run, with counts per outcome, the distinct
failures and a minimised reproducer of each written to a folder::

    python scripts/fuzz.py --cases 5000 --jobs 2 --out /tmp/fuzz-failures   # cases 0..4999
    python scripts/fuzz.py --cases 100-199 --timeout 10   # a range; or a list: --cases 3,17,4086
    python scripts/fuzz.py --show 4086                    # the document and options of one case
    python scripts/fuzz.py --replay /tmp/fuzz-failures/failure-01.json --encoding cp1252
"""

from __future__ import annotations

import argparse
import collections
import copy
import csv
import io
import json
import math
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "resources" / "examples"
#: Cases the CI test runs; raise it for a longer run.
CI_EXAMPLES = int(os.environ.get("QUEUESTUDIO_FUZZ_EXAMPLES", "250"))
#: CPU seconds a case may take before it counts as a hang (generous: it only catches hangs).
CASE_TIMEOUT = float(os.environ.get("QUEUESTUDIO_FUZZ_TIMEOUT", "20"))
#: Events (arrivals, visits, samples) the scaled horizon aims at.
EVENT_BUDGET = 3000.0
#: The scaled horizon is never shorter than this, so a clock creeping by denormals shows.
MIN_HORIZON = 1e-6
#: Address-space limit of a worker process, bytes.
WORKER_MEMORY = 2 * 1024**3

REFUSED, GOOD, STALLED, FAILURE = "refused", "good", "stalled", "FAILURE"
OUTCOMES = (REFUSED, GOOD, STALLED, FAILURE)
ENCODINGS = ("utf-8", "utf-8", "cp1252", "ascii")


# ====================================================================== documents
class Raw:
    """A JSON literal written as is (a 5,000-digit integer, ``1e400``, ``-0``, ``NaN``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Raw({self.text[:20]!r})"


def _raw_free(value: Any, raws: list[str]) -> Any:
    if isinstance(value, Raw):
        raws.append(value.text)
        return f"\x00RAW{len(raws) - 1}\x00"
    if isinstance(value, dict):
        return {k: _raw_free(v, raws) for k, v in value.items()}
    if isinstance(value, list):
        return [_raw_free(v, raws) for v in value]
    return value


def to_text(doc: Any) -> str:
    """The document as JSON text (ASCII, lone surrogates escaped, NaN written as ``NaN``)."""
    raws: list[str] = []
    text = json.dumps(_raw_free(doc, raws), ensure_ascii=True, allow_nan=True)
    for i, raw in enumerate(raws):
        text = text.replace(f'"\\u0000RAW{i}\\u0000"', raw)
    return text


def load_examples() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES_DIR.glob("*.json"))]


LONG = "x" * 100_000
NASTY_STRINGS = [
    "",
    " ",
    "\ud800",
    "a\udfffb",
    "\udc80",
    "ρ≥λ",
    "\u202eevil",
    "tab\there",
    "new\nline",
    "nul\x00byte",
    "😀" * 50,
    LONG,
    "y" * 5000,
    "NaN",
    "Infinity",
    "-Infinity",
    "1e308",
    "0",
]
NASTY = [
    0,
    -0.0,
    Raw("-0"),
    1,
    -1,
    0.5,
    1e-300,
    5e-324,
    -5e-324,
    1e308,
    1.7976931348623157e308,
    -1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    Raw("1e400"),
    Raw("-1e400"),
    Raw("1" + "0" * 5000),
    True,
    False,
    None,
    10**400,
    -(10**400),
    10**18,
    2**63,
    2**64 + 1,
    [],
    {},
    [1, 2],
    [[0, 1e308]],
    {"dist": "constant"},
    {"dist": "constant", "value": 1e-300},
    {"kind": "fixed", "c": 10**9},
    *NASTY_STRINGS,
]
TINY = [1e-300, 5e-324, 2.2250738585072014e-308, 1e-15, 1e-12, 1e-9, 1e-6]
HUGE = [1e6, 1e9, 1e12, 1e15, 1e100, 1e300, 1e308, 1.7976931348623157e308]
EXTREME_FLOATS = [0.0, *TINY, *HUGE]
EXTREME_INTS = [0, 1, 2, 10**6, 10**8, 10**9, 10**12, 10**18, 2**63, 10**400]
DIST_FIELDS = ("service_time", "processing_time", "delay", "interarrival", "cpu_work_distribution", "io_time")


def _positive(rnd: random.Random) -> float | int:
    """A positive number, often extreme."""
    r = rnd.random()
    if r < 0.35:
        return rnd.choice(TINY)
    if r < 0.7:
        return rnd.choice(HUGE)
    if r < 0.8:
        return rnd.choice([10**9, 10**400, 1])
    return rnd.choice([0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 10.0])


def random_dist(rnd: random.Random) -> dict[str, Any]:
    """A distribution object with extreme (mostly valid) parameters."""
    kind = rnd.choice(["constant", "exponential", "uniform", "erlang", "lognormal", "pareto", "empirical"])
    if kind == "constant":
        return {"dist": "constant", "value": rnd.choice([0.0, 0, *TINY, *HUGE, 1.0])}
    if kind == "exponential":
        return {"dist": "exponential", "mean": _positive(rnd)}
    if kind == "uniform":
        low = rnd.choice([0.0, 1e-300, 1.0, 1e300, 1e308])
        return {"dist": "uniform", "low": low, "high": rnd.choice([low, low * 2 if low < 1e307 else low, 1e308, 1.0])}
    if kind == "erlang":
        return {"dist": "erlang", "k": rnd.choice(EXTREME_INTS[1:]), "mean": _positive(rnd)}
    if kind == "lognormal":
        return {
            "dist": "lognormal",
            "mean": _positive(rnd),
            "cv": rnd.choice([0.0, 1e-300, 0.5, 1.0, 10.0, 1e6, 1e300]),
        }
    if kind == "pareto":
        return {
            "dist": "pareto",
            "mean": _positive(rnd),
            "alpha": rnd.choice([1 + 1e-15, 1.0001, 1.5, 2.5, 1e6, 1e308]),
        }
    n = rnd.choice([1, 2, 5, 1000])
    return {"dist": "empirical", "values": [rnd.choice([0.0, *TINY, *HUGE, 1.0]) for _ in range(n)]}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indices)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        if len(value) > 50:  # long lists (a chain's nodes): a sample of their items
            for i in sorted({0, len(value) - 1, *random.Random(len(value)).sample(range(len(value)), 20)}):
                out.extend(_paths(value[i], (*prefix, i)))
        else:
            for i, v in enumerate(value):
                out.extend(_paths(v, (*prefix, i)))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _nodes(doc: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = doc.get("nodes")
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def _links(doc: dict[str, Any]) -> list[Any]:
    links = doc.get("links")
    if not isinstance(links, list):
        links = doc["links"] = []
    return links


def _ids(doc: dict[str, Any]) -> list[Any]:
    return [n.get("id") for n in _nodes(doc)]


def _stations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in _nodes(doc) if n.get("kind") not in ("source", "sink", "router")]


def _new_id(doc: dict[str, Any], stem: str) -> str:
    ids = set(map(str, _ids(doc)))
    i = 1
    while f"{stem}{i}" in ids:
        i += 1
    return f"{stem}{i}"


def _params(node: dict[str, Any]) -> dict[str, Any]:
    params = node.get("params")
    if not isinstance(params, dict):
        params = node["params"] = {}
    return params


# ---------------------------------------------------------------- mutations
def m_nasty_value(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """Any value anywhere (even the whole document) replaced by a nasty one."""
    paths = _paths(doc)
    path = rnd.choice(paths[1:] if rnd.random() < 0.97 else paths)
    return _set(doc, path, copy.deepcopy(rnd.choice(NASTY)))


def m_extreme_number(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A number replaced by an extreme one of the same type (mostly still valid)."""
    numeric = [p for p in _paths(doc) if p and type(_get(doc, p)) in (int, float) and "position" not in p]
    if not numeric:
        return doc
    path = rnd.choice(numeric)
    old = _get(doc, path)
    new = rnd.choice(EXTREME_INTS) if isinstance(old, int) else rnd.choice(EXTREME_FLOATS)
    return _set(doc, path, new)


def m_distribution(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A distribution (service, delay, inter-arrival, link latency) replaced by an extreme one."""
    slots: list[tuple[Any, ...]] = []
    for i, node in enumerate(doc.get("nodes") or []):
        if isinstance(node, dict) and isinstance(node.get("params"), dict):
            slots.extend(("nodes", i, "params", f) for f in DIST_FIELDS if f in node["params"])
            if node.get("kind") == "source":
                slots.append(("nodes", i, "params", "interarrival"))
    for i, link in enumerate(_links(doc)):
        if isinstance(link, dict):
            slots.append(("links", i, "latency"))
    if not slots:
        return doc
    path = rnd.choice(slots)
    _set(doc, path, random_dist(rnd))
    if path[-1] == "interarrival" and rnd.random() < 0.8:  # an inter-arrival replaces the rate
        _get(doc, path[:-1]).pop("rate", None)
        _get(doc, path[:-1]).pop("profile", None)
    return doc


def m_swap_kind(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A node becomes another kind, keeping its parameters or taking the new kind's defaults."""
    from engine.model.schema import KINDS

    nodes = _nodes(doc)
    if not nodes:
        return doc
    node = rnd.choice(nodes)
    kind = rnd.choice(sorted(KINDS))
    node["kind"] = kind
    if rnd.random() < 0.6:
        node["params"] = KINDS[kind].defaults()
    return doc


def _link(doc: dict[str, Any], src: Any, dst: Any, rnd: random.Random, probability: bool = True) -> dict[str, Any]:
    link: dict[str, Any] = {"from": src, "to": dst}
    if probability and rnd.random() < 0.3:
        link["probability"] = rnd.choice([0.0, 0.5, 1.0, 1e-300, 1 - 1e-16, 0.999])
    if rnd.random() < 0.15:
        link["latency"] = random_dist(rnd)
    _links(doc).append(link)
    return link


def m_random_link(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A link between two random nodes (a cycle, a self-loop, into a source, out of a sink...)."""
    ids = _ids(doc)
    if ids:
        _link(doc, rnd.choice(ids), rnd.choice(ids), rnd)
    return doc


def m_drop_link(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    links = _links(doc)
    if links:
        links.pop(rnd.randrange(len(links)))
    return doc


def _split(doc: dict[str, Any], node_id: Any, rnd: random.Random) -> None:
    """Give ``node_id``'s out-links probabilities that sum to 1 (valid random routing)."""
    out = [lk for lk in _links(doc) if isinstance(lk, dict) and lk.get("from") == node_id]
    if not out:
        return
    weights = [rnd.choice([1e-300, 0.001, 1.0, 5.0]) for _ in out]
    total = sum(weights)
    probs = [w / total for w in weights]
    probs[-1] = 1.0 - sum(probs[:-1])
    for link, p in zip(out, probs):
        link["probability"] = max(0.0, p)


def m_self_loop(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A station feeds itself (with probabilities on its out-links, so it stays valid)."""
    stations = _stations(doc)
    if stations:
        node = rnd.choice(stations)
        _link(doc, node["id"], node["id"], rnd, probability=False)
        _split(doc, node["id"], rnd)
    return doc


def m_feedback(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A link from a later node back to an earlier station, with routing probabilities."""
    stations = _stations(doc)
    nodes = [n for n in _nodes(doc) if n.get("kind") not in ("sink",)]
    if stations and nodes:
        back, frm = rnd.choice(stations), rnd.choice(nodes)
        _link(doc, frm["id"], back["id"], rnd, probability=False)
        if rnd.random() < 0.8:
            _split(doc, frm["id"], rnd)
    return doc


def m_router_pair(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """Two routers linked to each other (one often shortest_queue) in front of a station."""
    from engine.model.schema import ROUTER_POLICIES

    stations = _stations(doc)
    sources = [n for n in _nodes(doc) if n.get("kind") == "source"]
    if not stations or not sources:
        return doc
    target, source = rnd.choice(stations), rnd.choice(sources)
    a, b = _new_id(doc, "r"), ""
    doc["nodes"].append({"id": a, "kind": "router", "position": [0, 0], "params": {"policy": "shortest_queue"}})
    b = _new_id(doc, "r")
    doc["nodes"].append(
        {"id": b, "kind": "router", "position": [0, 0], "params": {"policy": rnd.choice(ROUTER_POLICIES)}}
    )
    for link in _links(doc):
        if isinstance(link, dict) and link.get("from") == source["id"]:
            link["to"] = a
    if not any(isinstance(lk, dict) and lk.get("from") == source["id"] for lk in _links(doc)):
        _link(doc, source["id"], a, rnd, probability=False)
    for src, dst in ((a, b), (b, a), (a, target["id"]), (b, target["id"])):
        if rnd.random() < 0.9:
            _links(doc).append({"from": src, "to": dst})
    return doc


def m_chain(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A chain of stations (often zero-delay, sometimes hundreds long) spliced into a link."""
    links = [lk for lk in _links(doc) if isinstance(lk, dict)]
    if not links:
        return doc
    link = rnd.choice(links)
    n = rnd.choice([2, 3, 10, 40, 120, 260, 300, 1100])
    kind = rnd.choice(["delay0", "delay0", "router", "server", "mixed"])
    prev = link.get("to")
    chain: list[str] = []
    stem = _new_id(doc, "c") + "_"
    for i in range(n):
        k = rnd.choice(["delay0", "router", "server"]) if kind == "mixed" else kind
        node_id = f"{stem}{i}"
        if k == "delay0":
            node = {"id": node_id, "kind": "delay", "params": {"delay": {"dist": "constant", "value": 0}}}
        elif k == "router":
            node = {
                "id": node_id,
                "kind": "router",
                "params": {"policy": rnd.choice(["round_robin", "shortest_queue"])},
            }
        else:
            mean = rnd.choice([1e-6, 1e-3, 0.01])
            node = {"id": node_id, "kind": "server", "params": {"service_time": {"dist": "exponential", "mean": mean}}}
        node["position"] = [i, 0]
        doc["nodes"].append(node)
        chain.append(node_id)
    link["to"] = chain[0]
    for a, b in zip(chain, chain[1:]):
        doc["links"].append({"from": a, "to": b})
    doc["links"].append({"from": chain[-1], "to": prev})
    return doc


def m_rename(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A node id becomes a nasty string (its links follow, so the model may stay valid)."""
    nodes = _nodes(doc)
    if not nodes:
        return doc
    node = rnd.choice(nodes)
    old = node.get("id")
    new: Any = rnd.choice([*NASTY_STRINGS, *NASTY_STRINGS, 0, None, True, rnd.choice(_ids(doc))])
    node["id"] = new
    if rnd.random() < 0.85:
        for link in _links(doc):
            if isinstance(link, dict):
                for end in ("from", "to"):
                    if link.get(end) == old:
                        link[end] = new
    return doc


def m_label(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """The model's name or description becomes a nasty string."""
    doc[rnd.choice(["name", "description"])] = rnd.choice(NASTY_STRINGS)
    return doc


def m_drop_key(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    keyed = [p for p in _paths(doc) if p and isinstance(p[-1], str)]
    if keyed:
        path = rnd.choice(keyed)
        del _get(doc, path[:-1])[path[-1]]
    return doc


def m_add_key(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    dicts = [p for p in _paths(doc) if isinstance(_get(doc, p), dict)]
    path = rnd.choice(dicts)
    _get(doc, path)[rnd.choice(["extra", "params", "probability", "kind", "\ud800", ""])] = rnd.choice(NASTY)
    return doc


def m_probabilities(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """Probabilities on some or all out-links of a node, summing to 1 or not."""
    ids = _ids(doc)
    if not ids:
        return doc
    node_id = rnd.choice(ids)
    if rnd.random() < 0.5:
        _split(doc, node_id, rnd)
    else:
        for link in _links(doc):
            if isinstance(link, dict) and link.get("from") == node_id and rnd.random() < 0.7:
                link["probability"] = rnd.choice([0.0, 0.3, 0.5, 1.0, 1.0000001, 1e-300])
    return doc


def m_duplicate_node(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    nodes = _nodes(doc)
    if nodes:
        node = copy.deepcopy(rnd.choice(nodes))
        if rnd.random() < 0.7:
            node["id"] = _new_id(doc, "dup")
            _link(doc, rnd.choice(_ids(doc)), node["id"], rnd)
            _link(doc, node["id"], rnd.choice(_ids(doc)), rnd)
        doc["nodes"].append(node)
    return doc


def m_concurrency(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A server's concurrency, a pool's workers or an async server's connections made extreme."""
    nodes = [n for n in _nodes(doc) if n.get("kind") in ("server", "thread_pool", "async_server")]
    if not nodes:
        return doc
    node = rnd.choice(nodes)
    params = _params(node)
    big = rnd.choice(EXTREME_INTS[1:])
    if node.get("kind") == "thread_pool":
        params["num_workers"] = big
    elif node.get("kind") == "async_server":
        params["max_connections"] = big
    else:
        r = rnd.random()
        if r < 0.4:
            params["concurrency"] = big
        elif r < 0.55:
            params["concurrency"] = {"kind": "fixed", "c": big}
        elif r < 0.8:
            lo = rnd.choice([1, 2, 10**9])
            params["concurrency"] = {
                "kind": "dynamic",
                "initial": lo,
                "min": lo,
                "max": rnd.choice([lo, big, 10**9]),
                "autoscale": {
                    "target_utilization": rnd.choice([1e-300, 0.5, 1.0, 0.999999]),
                    "interval": rnd.choice([1e-300, 5e-324, 1e-9, 1.0, 1e308]),
                    "step": rnd.choice([1, big]),
                    "band": rnd.choice([0.0, 0.1, 1e-300, 0.99]),
                },
            }
        else:
            params["concurrency"] = {"kind": "weighted", "total_capacity": big, "weight": random_dist(rnd)}
    if rnd.random() < 0.5 and node.get("kind") != "async_server":
        params["queue_capacity"] = rnd.choice([0, 1, 10**6, 10**8, 10**9, 10**18, 10**400])
    return doc


def m_source(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A source's rate, profile, limit or priority made extreme."""
    sources = [n for n in _nodes(doc) if n.get("kind") == "source"]
    if not sources:
        return doc
    params = _params(rnd.choice(sources))
    what = rnd.choice(["rate", "profile", "limit", "priority", "interarrival"])
    if what == "rate":
        params.pop("profile", None)
        params.pop("interarrival", None)
        params["rate"] = rnd.choice([0.0, 0, *TINY, *HUGE])
    elif what == "profile":
        params.pop("rate", None)
        n = rnd.choice([1, 2, 3, 1000])
        times = sorted(rnd.choice([0.0, *TINY, 1.0, 1e3, *HUGE]) for _ in range(n))
        times[0] = 0.0
        params["profile"] = [[t, rnd.choice([0.0, 1.0, 10.0, *HUGE, *TINY])] for t in times]
    elif what == "limit":
        params["limit"] = rnd.choice(EXTREME_INTS)
    elif what == "priority":
        params["priority"] = rnd.choice([*EXTREME_FLOATS, -1e308, 10**400])
    else:
        params.pop("rate", None)
        params.pop("profile", None)
        params["interarrival"] = (
            {"dist": "constant", "value": rnd.choice(TINY)} if rnd.random() < 0.5 else random_dist(rnd)
        )
    return doc


def m_simulation(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """The run settings made extreme."""
    sim = doc.get("simulation")
    if not isinstance(sim, dict):
        sim = doc["simulation"] = {}
    field = rnd.choice(["end_time", "warmup", "seed", "sample_interval"])
    if field == "seed":
        sim["seed"] = rnd.choice([0, 2**32, 2**63, 2**64, 10**400, None, -1])
    elif field == "warmup":
        sim["warmup"] = rnd.choice([0.0, *TINY, *HUGE])
    else:
        sim[field] = rnd.choice([*TINY, *HUGE, 1.0])
    return doc


def m_policy(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """A router's or queue's policy changed (all valid choices, sometimes not)."""
    from engine.model.schema import QUEUE_POLICIES, ROUTER_POLICIES

    nodes = _nodes(doc)
    if nodes:
        node = rnd.choice(nodes)
        params = _params(node)
        if node.get("kind") == "router":
            params["policy"] = rnd.choice([*ROUTER_POLICIES, "fifo"])
        else:
            params["queue_policy"] = rnd.choice([*QUEUE_POLICIES, "random"])
    return doc


MUTATIONS = [
    (m_nasty_value, 14),
    (m_extreme_number, 14),
    (m_distribution, 12),
    (m_swap_kind, 5),
    (m_random_link, 6),
    (m_drop_link, 3),
    (m_self_loop, 4),
    (m_feedback, 4),
    (m_router_pair, 4),
    (m_chain, 3),
    (m_rename, 6),
    (m_label, 3),
    (m_drop_key, 4),
    (m_add_key, 2),
    (m_probabilities, 4),
    (m_duplicate_node, 2),
    (m_concurrency, 8),
    (m_source, 8),
    (m_simulation, 6),
    (m_policy, 3),
]


def make_case(rnd: random.Random, examples: list[dict[str, Any]] | None = None) -> tuple[Any, dict[str, Any]]:
    """A mutated example and the options of its run (console encoding, JSON target, replications)."""
    examples = examples if examples is not None else EXAMPLES
    doc: Any = copy.deepcopy(rnd.choice(examples))
    count = rnd.choice([1, 1, 1, 2, 2, 3, 4])
    funcs = [f for f, _ in MUTATIONS]
    weights = [w for _, w in MUTATIONS]
    for _ in range(count):
        if not isinstance(doc, dict):
            break
        (func,) = rnd.choices(funcs, weights)
        try:
            doc = func(doc, rnd)
        except (TypeError, KeyError, IndexError, AttributeError, ValueError):
            pass  # an earlier mutation left no room for this one (say, "nodes" is now a number)
    options = {
        "encoding": rnd.choice(ENCODINGS),
        "json_stdout": rnd.random() < 0.3,
        "replications": 2 if rnd.random() < 0.15 else 1,
    }
    return doc, options


EXAMPLES = load_examples()


# ====================================================================== one case (in the worker)
def _where(tb: Any) -> tuple[str, str]:
    """(``engine/file.py:function``, ``...:line``) of the innermost frame in the project's code."""
    frames = traceback.extract_tb(tb)
    for frame in reversed(frames):
        path = Path(frame.filename)
        try:
            rel = path.resolve().relative_to(ROOT)
        except ValueError:
            continue
        if rel.parts and rel.parts[0] in ("engine", "desktop"):
            return f"{rel.as_posix()}:{frame.name}", f"{rel.as_posix()}:{frame.lineno}"
    if frames:
        frame = frames[-1]
        return f"{Path(frame.filename).name}:{frame.name}", f"{Path(frame.filename).name}:{frame.lineno}"
    return "?", "?"


def _failure(stage: str, exc: BaseException) -> dict[str, Any]:
    where, line = _where(exc.__traceback__)
    message = str(exc).encode("ascii", "backslashreplace").decode("ascii")[:300]
    return {
        "outcome": FAILURE,
        "signature": f"{type(exc).__name__} in {where} ({stage})",
        "stage": stage,
        "line": line,
        "message": message,
        "traceback": "".join(traceback.format_exception(exc)).encode("ascii", "backslashreplace").decode()[-4000:],
    }


def _stalled_class() -> type[BaseException] | None:
    import engine

    try:
        return getattr(engine, "SimulationStalled", None)
    except Exception:  # noqa: BLE001 - a lazy import failing means "not there yet"
        return None


def _event_rate(model: Any) -> float:
    """Events per simulated second the model needs, roughly (arrivals, visits, samples, autoscaling)."""
    from engine import distributions
    from engine.model import arrival_rates

    rate = 0.0
    for node in model.nodes:
        if node.kind != "source":
            continue
        p = node.params
        try:
            if p.get("profile"):
                rate += max(float(r) for _, r in p["profile"])
            elif p.get("interarrival"):
                mean = distributions.from_spec(p["interarrival"]).mean
                rate += 1.0 / mean if mean > 0 else math.inf
            else:
                rate += float(p.get("rate", 1.0) if p.get("rate", 1.0) is not None else 1.0)
        except Exception:  # noqa: BLE001 - the harness only needs an estimate
            rate += 1.0
    try:
        visits = sum(v for v in arrival_rates(model).values() if math.isfinite(v))
        rate = max(rate, visits)
    except Exception:  # noqa: BLE001
        pass
    interval = model.simulation.sample_interval
    if interval and interval > 0:
        rate += 1.0 / interval
    for node in model.nodes:  # an autoscaler looks at its station every `interval`
        conc = node.params.get("concurrency") if isinstance(node.params, dict) else None
        auto = conc.get("autoscale") if isinstance(conc, dict) else None
        if isinstance(auto, dict):
            try:
                rate += 1.0 / float(auto.get("interval", 1.0))
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                pass
    return rate


def scaled_text(text: str, model: Any) -> str:
    """The document with its horizon cut to about EVENT_BUDGET events (warmup in proportion)."""
    data = json.loads(text)
    end, warmup = model.simulation.end_time, model.simulation.warmup
    try:
        rate = _event_rate(model)
        horizon = max(EVENT_BUDGET / rate if rate > 0 else end, MIN_HORIZON)
    except Exception:  # noqa: BLE001
        horizon = MIN_HORIZON
    if end > horizon:
        sim = data.setdefault("simulation", {})
        sim["end_time"] = horizon
        sim["warmup"] = warmup * (horizon / end)
    return json.dumps(data, ensure_ascii=True)


class _Console(io.TextIOWrapper):
    """A console stream of a given encoding, strict as a real stdout is."""

    def __init__(self, encoding: str, errors: str = "strict") -> None:
        super().__init__(io.BytesIO(), encoding=encoding, errors=errors, newline="\n", write_through=True)

    def value(self) -> str:
        self.flush()
        buffer = self.buffer
        assert isinstance(buffer, io.BytesIO)
        return buffer.getvalue().decode(self.encoding, "replace")


def run_case(text: str, options: dict[str, Any], workdir: str) -> dict[str, Any]:
    """Take one document through the headless path and classify what happened."""
    from engine import cli
    from engine.model import ModelError, dumps_model, loads_model
    from engine.model import build as build_model
    from engine.replications import run_once

    stalled = _stalled_class()
    stage = "open"
    try:
        import engine.model as model_module

        opens_model = getattr(model_module, "opens_model", None)
        if opens_model is not None:  # the lenient open: work is never lost
            try:
                opened, _report = opens_model(text)
            except ModelError:
                pass
            else:
                stage = "reopen-saved"
                opens_model(dumps_model(opened))
        stage = "load"
        try:
            model = loads_model(text)
        except ModelError:
            return {"outcome": REFUSED}
        stage = "save-and-load"
        loads_model(dumps_model(model))
        stage = "scale"
        scaled = scaled_text(text, model)
        path = Path(workdir, "model.json")
        path.write_text(scaled, encoding="utf-8")
        json_path, csv_path = Path(workdir, "out.json"), Path(workdir, "out.csv")
        for p in (json_path, csv_path):
            if p.exists():
                p.unlink()
        args = ["run", str(path), "--quiet", "--csv", str(csv_path)]
        args += ["--json", "-" if options.get("json_stdout") else str(json_path)]
        if options.get("replications", 1) > 1:
            args += ["--replications", str(options["replications"])]
        stage = "cli"
        out, err = (
            _Console(options.get("encoding", "utf-8")),
            _Console(options.get("encoding", "utf-8"), "backslashreplace"),
        )
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            code = cli.main(args)
        except BaseException as exc:
            if stalled is not None and isinstance(exc, stalled):
                return {"outcome": STALLED, "message": str(exc)[:300].encode("ascii", "backslashreplace").decode()}
            raise
        finally:
            sys.stdout, sys.stderr = saved
        if code != 0:
            stage = "classify-exit"
            message = err.value().strip()
            try:  # a clean refusal or stall, reported by the CLI in words?
                run_once(loads_model(scaled), None)
            except ModelError:
                return {"outcome": REFUSED, "note": "refused at run time"}
            except BaseException as exc:
                if stalled is not None and isinstance(exc, stalled):
                    return {"outcome": STALLED, "note": "reported by the CLI"}
                raise
            return {
                "outcome": FAILURE,
                "signature": f"CLI exit {code}: {message.splitlines()[0][:80] if message else '(no message)'}",
                "stage": "cli",
                "line": "engine/cli.py",
                "message": message[-600:].encode("ascii", "backslashreplace").decode(),
                "traceback": "",
            }
        stage = "check-output"
        document = out.value() if options.get("json_stdout") else json_path.read_text(encoding="utf-8")

        def no_constants(name: str) -> Any:
            raise ValueError(f"the JSON output contains {name}")

        parsed = json.loads(document, parse_constant=no_constants)
        if not isinstance(parsed, dict) or "nodes" not in parsed:
            raise ValueError("the JSON output has no 'nodes'")
        with open(csv_path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        if not rows or rows[0][:2] != ["time", "node"]:
            raise ValueError("the CSV output has no header")
        _ = build_model  # imported for the worker's warm-up
        return {"outcome": GOOD}
    except BaseException as exc:  # noqa: BLE001 - everything else is a failure to report
        if isinstance(exc, KeyboardInterrupt):
            raise
        if stalled is not None and isinstance(exc, stalled):
            return {"outcome": STALLED, "note": f"raised at stage {stage}"}
        return _failure(stage, exc)


def worker_main(workdir: str) -> None:
    """Read cases (JSON lines) on stdin, answer each with a JSON line on the original stdout.

    ``workdir`` (the model and output files) belongs to the parent, which removes it even when
    it has to kill the worker.
    """
    import faulthandler
    import resource

    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ValueError, OSError):
        pass
    import engine.cli  # noqa: F401 - warm up before the first case's clock starts
    import engine.theory  # noqa: F401

    # The time bound is CPU time, not wall-clock time: on a busy machine a case may wait for a
    # processor for a long while without being any closer to a hang. After `timeout` seconds
    # of CPU, SIGPROF makes faulthandler write every thread's stack to stderr (even from
    # inside C code); the parent sees the dump and ends the worker.

    faulthandler.enable()  # a crash, or the parent's SIGABRT, also leaves a stack
    faulthandler.register(signal.SIGPROF, all_threads=True, chain=False)
    for line in sys.stdin:
        request = json.loads(line)
        signal.setitimer(signal.ITIMER_PROF, max(request["timeout"], 1e-6))
        try:
            result = run_case(request["text"], request["options"], workdir)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        proto.write(json.dumps(result, ensure_ascii=True) + "\n")
        proto.flush()


# ====================================================================== the worker (in the parent)
_FRAME = re.compile(r'File "([^"]+)", line (\d+) in (\S+)')


#: Where a hang happened, by the innermost of these frames on its stack (most specific first).
PHASES = (
    ("engine/cli.py", ("write", "_csv_writer"), "writing the CSV"),
    ("engine/theory.py", ("analyze",), "theory (engine.theory.analyze)"),
    ("engine/analysis.py", ("analyze_model",), "theory (engine.theory.analyze)"),
    ("engine/model/build.py", ("build",), "building the run (engine.model.build)"),
    ("engine/simulation.py", ("run_until", "run", "step"), "the event loop (Simulation.run_until)"),
    ("engine/model/build.py", ("run_until", "run"), "the event loop (Simulation.run_until)"),
    ("engine/model/document.py", (), "loading (engine.model.document)"),
    ("engine/model/validate.py", (), "validating (engine.model.validate)"),
    ("engine/cli.py", (), "the CLI (engine.cli)"),
)


def _phase(frames: list[tuple[str, str, str]]) -> str:
    for path, _line, func in frames:
        for where, funcs, phase in PHASES:
            if path == where and (not funcs or func in funcs):
                return phase
    return f"{frames[0][0]}:{frames[0][2]}" if frames else "an unknown place"


class Worker:
    """A worker process that runs cases one at a time, restarted after a hang or a crash."""

    def __init__(self, timeout: float = CASE_TIMEOUT) -> None:
        self.timeout = timeout
        self.proc: subprocess.Popen[str] | None = None
        self.err: Any = None
        self.workdir: str | None = None

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", "1")
        env["PYTHONHASHSEED"] = "0"
        self.err = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _lost
        self.workdir = tempfile.mkdtemp(prefix="qs-fuzz-")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", self.workdir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=str(ROOT),
        )
        return self.proc

    def run(self, text: str, options: dict[str, Any]) -> dict[str, Any]:
        proc = self.proc if self.proc is not None and self.proc.poll() is None else self._start()
        assert proc.stdin is not None and proc.stdout is not None
        request = json.dumps({"text": text, "options": options, "timeout": self.timeout}, ensure_ascii=True)
        started = time.monotonic()
        offset = os.fstat(self.err.fileno()).st_size
        line = ""
        try:
            proc.stdin.write(request + "\n")
            proc.stdin.flush()
            # the worker's CPU-time bound fires at `timeout` CPU seconds; the wall-clock limit
            # here, far longer, only catches a worker starved or stuck outside the CPU
            wall_limit = started + max(120.0, 30 * self.timeout)
            while True:
                ready, _, _ = select.select([proc.stdout], [], [], 0.25)
                if ready:
                    line = proc.stdout.readline()
                    break
                if proc.poll() is not None or self._dumped(offset):
                    break
                if time.monotonic() > wall_limit:
                    proc.send_signal(signal.SIGABRT)  # faulthandler dumps the stack on the way out
                    try:
                        proc.wait(10)
                    except subprocess.TimeoutExpired:
                        pass
                    break
        except (BrokenPipeError, OSError):
            line = ""
        if line and not self._dumped(offset):  # an answer after the bound fired is still a hang
            result: dict[str, Any] = json.loads(line)
            result["seconds"] = round(time.monotonic() - started, 3)
            return result
        return self._lost(proc, time.monotonic() - started, offset)

    def _dumped(self, offset: int) -> bool:
        """Whether the worker wrote a stack dump (its CPU-time bound fired) since ``offset``."""
        time.sleep(0)  # let the dump finish if it is being written
        tail = os.pread(self.err.fileno(), 1 << 16, offset)
        return b"most recent call first" in tail

    def _lost(self, proc: subprocess.Popen[str], seconds: float, offset: int = 0) -> dict[str, Any]:
        """The worker hung (faulthandler dumped its stack) or died: end it and say where."""
        if proc.poll() is None:
            time.sleep(0.2)  # the rest of the dump
            proc.kill()
        code = proc.wait()
        self.err.seek(offset)
        dump = self.err.read().decode("utf-8", "replace")
        self.err.close()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        self.proc = self.err = None
        self._remove_workdir()
        frames = []  # (engine/file.py, line, function), most recent call first
        for path, line, func in _FRAME.findall(dump):
            try:
                rel = Path(path).resolve().relative_to(ROOT)
            except ValueError:
                continue
            if rel.parts and rel.parts[0] == "engine":
                frames.append((rel.as_posix(), line, func))
        innermost = f"{frames[0][0]}:{frames[0][2]}" if frames else "?"
        line_ref = f"{frames[0][0]}:{frames[0][1]}" if frames else "?"
        if "Fatal Python error: Aborted" in dump:
            kind = f"Hang (no answer in {seconds:.0f} s of wall-clock time)"
        elif "most recent call first" in dump and "Fatal Python error" not in dump:
            kind = f"Hang (over {self.timeout:g} s of CPU time)"
        else:
            kind = f"Worker died (exit {code})"
        return {
            "outcome": FAILURE,
            "signature": f"{kind} in {_phase(frames)}",
            "stage": "run",
            "line": line_ref,
            "innermost": innermost,
            "message": f"{kind}; innermost engine frame {innermost}",
            "traceback": dump[-4000:],
            "seconds": round(seconds, 3),
        }

    def close(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
        if self.err is not None:
            self.err.close()
        self.proc = self.err = None
        self._remove_workdir()

    def _remove_workdir(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def _flags(options: dict[str, Any]) -> str:
    flags = f"--encoding {options.get('encoding', 'utf-8')} --replications {options.get('replications', 1)}"
    return flags + (" --json-stdout" if options.get("json_stdout") else "")


def describe(result: dict[str, Any], text: str, options: dict[str, Any]) -> str:
    """A failure for a test report: where, why, and the document (whole in a file, shortened here)."""
    fd, path = tempfile.mkstemp(prefix="qs-fuzz-failure-", suffix=".json")
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)
    shown = text if len(text) < 3000 else text[:3000] + f"... ({len(text)} characters, all in {path})"
    return (
        f"{result['signature']}\n  at {result.get('line')}: {result.get('message')}\n"
        f"{result.get('traceback', '')}\ndocument (saved as {path}; replay: python scripts/fuzz.py --replay {path} {_flags(options)}):\n{shown}"
    )


# ====================================================================== the CI test
pytest: Any = None
if __name__ != "__main__":  # a worker or a script needs no test machinery
    try:
        import pytest
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import strategies as st
    except ImportError:  # scripts/fuzz.py without the test extras
        pytest = None

if pytest is not None:

    @pytest.fixture(scope="module")
    def worker() -> Any:
        w = Worker()
        yield w
        w.close()

    @settings(
        max_examples=CI_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        # no shrinking: a hang costs the whole time bound per attempt; the failure shown is
        # the first one found, with its document (scripts/fuzz.py minimises reproducers)
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(rnd=st.randoms(use_true_random=False))
    def test_every_mutated_example_is_refused_runs_or_stalls_cleanly(worker: Worker, rnd: random.Random) -> None:
        doc, options = make_case(rnd)
        text = to_text(doc)
        result = worker.run(text, options)
        assert result["outcome"] in (REFUSED, GOOD, STALLED), describe(result, text, options)

    def _doc(**changes: Any) -> dict[str, Any]:
        doc = copy.deepcopy(next(d for d in EXAMPLES if d.get("name") == "M/M/1"))
        for key, value in changes.items():
            path = tuple(int(p) if p.isdigit() else p for p in key.split("__"))
            _set(doc, path, value)
        return doc

    def _router_pair() -> dict[str, Any]:
        doc = _doc()
        doc["nodes"] += [
            {"id": "r1", "kind": "router", "position": [0, 0], "params": {"policy": "shortest_queue"}},
            {"id": "r2", "kind": "router", "position": [0, 0], "params": {"policy": "round_robin"}},
        ]
        doc["links"] = [
            {"from": "arrivals", "to": "r1"},
            {"from": "r1", "to": "r2"},
            {"from": "r2", "to": "r1"},
            {"from": "r1", "to": "cpu"},
            {"from": "r2", "to": "cpu"},
            {"from": "cpu", "to": "done"},
        ]
        return doc

    def _chain(n: int) -> dict[str, Any]:
        doc = _doc()
        doc["nodes"] += [
            {"id": f"d{i}", "kind": "delay", "position": [0, 0], "params": {"delay": {"dist": "constant", "value": 0}}}
            for i in range(n)
        ]
        doc["links"] = [{"from": "arrivals", "to": "d0"}]
        doc["links"] += [{"from": f"d{i}", "to": f"d{i + 1}"} for i in range(n - 1)]
        doc["links"] += [{"from": f"d{n - 1}", "to": "cpu"}, {"from": "cpu", "to": "done"}]
        return doc

    # The cases the issue found by hand: the fuzzer's seeds, checked on every run.
    KNOWN = {
        "two routers linked to each other": (_router_pair, "utf-8"),
        "constant inter-arrival 1e-300": (
            lambda: _doc(nodes__0__params={"interarrival": {"dist": "constant", "value": 1e-300}}),
            "utf-8",
        ),
        "sample_interval 1e-300": (lambda: _doc(simulation__sample_interval=1e-300), "utf-8"),
        "rate 1e308": (lambda: _doc(nodes__0__params__rate=1e308), "utf-8"),
        "end_time 1e15": (lambda: _doc(simulation__end_time=1e15), "utf-8"),
        "chain of 260 zero-delay stations": (lambda: _chain(260), "utf-8"),
        "chain of 1100 zero-delay stations": (lambda: _chain(1100), "utf-8"),
        "uniform high 1e308": (
            lambda: _doc(nodes__1__params__service_time={"dist": "uniform", "low": 0, "high": 1e308}),
            "utf-8",
        ),
        "lognormal mean 1e300": (
            lambda: _doc(nodes__1__params__service_time={"dist": "lognormal", "mean": 1e300, "cv": 1.0}),
            "utf-8",
        ),
        "pareto mean 1e300": (
            lambda: _doc(nodes__1__params__service_time={"dist": "pareto", "mean": 1e300, "alpha": 2.5}),
            "utf-8",
        ),
        "erlang k 10**400": (
            lambda: _doc(nodes__1__params__service_time={"dist": "erlang", "k": 10**400, "mean": 1.0}),
            "utf-8",
        ),
        "queue_capacity 10**9": (lambda: _doc(nodes__1__params__queue_capacity=10**9), "utf-8"),
        "concurrency 10**9": (lambda: _doc(nodes__1__params__concurrency=10**9), "utf-8"),
        "lone surrogate in a node id": (
            lambda: _doc(nodes__2__id="\ud800", links__1__to="\ud800"),
            "utf-8",
        ),
        # found by this fuzzer (scripts/fuzz.py, seed 16: cases 165 and 815)
        "rate 5e-324 (its reciprocal overflows)": (lambda: _doc(nodes__0__params__rate=5e-324), "utf-8"),
        "autoscale step 10**400": (
            lambda: _doc(
                nodes__1__params__concurrency={
                    "kind": "dynamic",
                    "initial": 1,
                    "autoscale": {"target_utilization": 1e-300, "interval": 1.0, "step": 10**400, "band": 0.0},
                }
            ),
            "utf-8",
        ),
        "the table on a cp1252 console": (_doc, "cp1252"),
        "the table on an ASCII console": (_doc, "ascii"),
    }

    @pytest.mark.parametrize("name", sorted(KNOWN))
    def test_the_cases_found_by_hand_end_cleanly(worker: Worker, name: str) -> None:
        make, encoding = KNOWN[name]
        text = to_text(make())
        options = {"encoding": encoding, "json_stdout": False, "replications": 1}
        result = worker.run(text, options)
        assert result["outcome"] in (REFUSED, GOOD, STALLED), describe(result, text, options)

    def test_the_harness_tells_a_good_run_from_a_refusal_and_a_hang(worker: Worker) -> None:
        """The classifier itself: an example runs, a non-model is refused, a case over its time bound fails."""
        options = {"encoding": "utf-8", "json_stdout": False, "replications": 1}
        assert worker.run(to_text(_doc()), options)["outcome"] == GOOD
        assert worker.run("[]", options)["outcome"] == REFUSED
        impatient = Worker(timeout=0.001)  # no run answers within a millisecond of CPU
        try:
            hung = impatient.run(to_text(_chain(50)), options)
            assert hung["outcome"] == FAILURE and hung["signature"].startswith("Hang"), hung
            assert impatient.run("[]", options)["outcome"] in (REFUSED, FAILURE)  # a fresh worker took over
        finally:
            impatient.close()


# ====================================================================== the long run (a script)
def _shrink_candidates(doc: Any) -> list[Any]:
    """Smaller variants of ``doc``: a node (with its links), a link, a key or a long string gone."""
    out: list[Any] = []
    if not isinstance(doc, dict):
        return out
    nodes = doc.get("nodes") if isinstance(doc.get("nodes"), list) else []
    links = doc.get("links") if isinstance(doc.get("links"), list) else []
    if len(nodes) > 8:  # halve long chains first
        for part in (slice(0, len(nodes) // 2), slice(len(nodes) // 2, None)):
            keep = nodes[part]
            ids = {n.get("id") for n in keep if isinstance(n, dict)}
            c = copy.deepcopy(doc)
            c["nodes"] = copy.deepcopy(keep)
            c["links"] = [
                lk for lk in links if not isinstance(lk, dict) or (lk.get("from") in ids and lk.get("to") in ids)
            ]
            out.append(c)
    for i in range(len(nodes)):
        c = copy.deepcopy(doc)
        gone = c["nodes"].pop(i)
        gid = gone.get("id") if isinstance(gone, dict) else None
        c["links"] = [
            lk for lk in c.get("links", []) if not (isinstance(lk, dict) and gid in (lk.get("from"), lk.get("to")))
        ]
        out.append(c)
    for i in range(len(links)):
        c = copy.deepcopy(doc)
        c["links"].pop(i)
        out.append(c)
    for key in ("description", "name", "simulation"):
        if key in doc:
            c = copy.deepcopy(doc)
            del c[key]
            out.append(c)
    for path in _paths(doc):
        if not path:
            continue
        value = _get(doc, path)
        if isinstance(path[-1], str) and path[0] in ("nodes", "links", "simulation") and len(path) > 2:
            c = copy.deepcopy(doc)
            del _get(c, path[:-1])[path[-1]]
            out.append(c)
        if isinstance(value, str) and len(value) > 20:
            c = copy.deepcopy(doc)
            _set(c, path, value[:10])
            out.append(c)
        if isinstance(value, list) and len(value) > 4:
            c = copy.deepcopy(doc)
            _set(c, path, value[:2])
            out.append(c)
    return out


def minimise(worker: Worker, doc: Any, options: dict[str, Any], signature: str, budget: int) -> Any:
    """Greedy reduction of ``doc`` while the same failure signature reproduces (at most ``budget`` runs)."""
    runs = 0
    improved = True
    while improved and runs < budget:
        improved = False
        for candidate in _shrink_candidates(doc):
            if runs >= budget:
                break
            runs += 1
            result = worker.run(to_text(candidate), options)
            if result.get("signature") == signature:
                doc = candidate
                improved = True
                break
    return doc


def fuzz(
    cases: list[int],
    seed: int,
    jobs: int,
    out: Path | None,
    timeout: float,
    minimise_budget: int,
    hang_budget: int,
    minimise_seconds: float,
) -> dict[str, Any]:
    """Run the given cases (case i from ``random.Random(f"{seed}:{i}")``) and summarise."""
    counts: collections.Counter[str] = collections.Counter()
    failures: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    pending = iter(cases)
    started = time.monotonic()
    slowest: list[tuple[float, int, str]] = []
    log = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        log = open(out / "cases.jsonl", "w", encoding="ascii")  # noqa: SIM115 - closed below

    def work() -> None:
        w = Worker(timeout)
        try:
            while True:
                with lock:
                    i = next(pending, None)
                if i is None:
                    return
                doc, options = make_case(random.Random(f"{seed}:{i}"))
                text = to_text(doc)
                result = w.run(text, options)
                with lock:
                    outcome = result["outcome"]
                    counts[outcome] += 1
                    slowest.append((result.get("seconds", 0.0), i, outcome))
                    if log is not None:
                        keep = ("outcome", "signature", "line", "innermost", "seconds")
                        log.write(json.dumps({"case": i, **{k: result[k] for k in keep if k in result}}) + "\n")
                    done = sum(counts.values())
                    if outcome == FAILURE:
                        sig = result["signature"]
                        entry = failures.setdefault(sig, {"count": 0, "cases": [], "places": collections.Counter()})
                        entry["count"] += 1
                        entry["cases"].append(i)
                        entry["places"][result.get("innermost") or result.get("line", "?")] += 1
                        if "text" not in entry or len(text) < len(entry["text"]):
                            entry.update(result, text=text, doc=doc, options=options, case=i)
                    if done % 250 == 0:
                        print(
                            f"[{time.monotonic() - started:7.1f}s] {done}/{len(cases)} "
                            + ", ".join(f"{k} {counts[k]}" for k in OUTCOMES),
                            file=sys.stderr,
                            flush=True,
                        )
        finally:
            w.close()

    threads = [threading.Thread(target=work) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if log is not None:
        log.close()
    elapsed = time.monotonic() - started
    print(f"\n{len(cases)} cases in {elapsed:.0f} s (seed {seed}, {jobs} workers, time bound {timeout:g} s per case)")
    for k in OUTCOMES:
        print(f"  {k:<8} {counts[k]:6d}")
    slowest.sort(reverse=True)
    print("  slowest cases: " + ", ".join(f"#{i} {s:.1f}s ({o})" for s, i, o in slowest[:5]))
    ordered = sorted(failures.values(), key=lambda e: -e["count"])
    if ordered:
        print(f"\n{len(ordered)} distinct failures:")
    for n, entry in enumerate(ordered, 1):
        print(
            f"  {n:2d}. x{entry['count']:<4d} {entry['signature']}  [{entry['line']}] first case #{min(entry['cases'])}"
        )
        if len(entry["places"]) > 1:
            print("        innermost: " + ", ".join(f"{p} x{c}" for p, c in entry["places"].most_common(6)))
    if out is not None:
        for n, entry in enumerate(ordered, 1):  # the smallest failing document first, minimised below
            entry["reproducer"] = f"failure-{n:02d}.json"
            (out / entry["reproducer"]).write_text(entry["text"] + "\n", encoding="ascii")
            entry["reproduces"] = None

        def write_summary() -> None:
            summary = {
                "cases": len(cases),
                "seed": seed,
                "seconds": round(elapsed),
                "time_bound": timeout,
                "counts": {k: counts[k] for k in OUTCOMES},
                "failures": [
                    {
                        **{k: e.get(k) for k in ("signature", "count", "stage", "line", "message", "options", "case")},
                        "cases": sorted(e["cases"])[:50],
                        "innermost": dict(e["places"].most_common()),
                        "reproducer": e["reproducer"],
                        "minimised_and_rechecked": e["reproduces"],
                    }
                    for e in ordered
                ],
            }
            (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=True) + "\n", encoding="ascii")
            with open(out / "tracebacks.txt", "w", encoding="ascii", errors="backslashreplace") as fh:
                for n, e in enumerate(ordered, 1):
                    fh.write(
                        f"===== {n:02d}. {e['signature']} (x{e['count']}, {e['reproducer']}, options {e['options']})\n"
                    )
                    fh.write(f"{e.get('check_traceback') or e['traceback']}\n\n")

        write_summary()
        deadline = time.monotonic() + minimise_seconds
        w = Worker(timeout)
        try:
            for entry in ordered:
                if time.monotonic() > deadline:
                    break
                budget = hang_budget if entry["signature"].startswith(("Hang", "Worker died")) else minimise_budget
                if not budget:
                    continue
                small = minimise(w, entry["doc"], entry["options"], entry["signature"], budget)
                check = w.run(to_text(small), entry["options"])
                entry["reproduces"] = check.get("signature") == entry["signature"]
                if entry["reproduces"]:
                    (out / entry["reproducer"]).write_text(to_text(small) + "\n", encoding="ascii")
                    entry["check_traceback"] = check.get("traceback", "")
                write_summary()
        finally:
            w.close()
        print(f"\nreproducers, cases.jsonl, summary.json and tracebacks.txt written to {out}")
    return {"counts": dict(counts), "failures": ordered}


def _case_list(text: str) -> list[int]:
    """``5000`` (cases 0-4999), ``100-199`` or ``3,17,4086``."""
    if "," in text:
        return [int(x) for x in text.split(",") if x]
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return list(range(int(text)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mutation fuzzer over the bundled example models (issue 16).")
    parser.add_argument("--worker", metavar="WORKDIR", help=argparse.SUPPRESS)
    parser.add_argument("--cases", type=_case_list, default="5000", help="a count, a range a-b, or a list i,j,k")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--timeout", type=float, default=CASE_TIMEOUT, help="seconds per case before it is a hang")
    parser.add_argument("--out", type=Path, help="folder for reproducers, a per-case log and a summary")
    parser.add_argument("--minimise", type=int, default=150, help="runs spent minimising each failure (0: none)")
    parser.add_argument("--minimise-hangs", type=int, default=4, help="runs spent minimising each hang")
    parser.add_argument("--minimise-seconds", type=float, default=600, help="time for minimising, all failures")
    parser.add_argument("--show", type=int, help="print the document and options of case N and exit")
    parser.add_argument("--replay", type=Path, help="run one document through the same path and print the outcome")
    parser.add_argument("--encoding", default="utf-8", help="console encoding for --replay")
    parser.add_argument("--json-stdout", action="store_true", help="--json - for --replay")
    parser.add_argument("--replications", type=int, default=1, help="replications for --replay")
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.worker)
        return 0
    if args.show is not None:
        doc, options = make_case(random.Random(f"{args.seed}:{args.show}"))
        print(json.dumps(options))
        print(to_text(doc))
        return 0
    if args.replay:
        w = Worker(args.timeout)
        try:
            text = args.replay.read_text(encoding="utf-8")
            options = {"encoding": args.encoding, "json_stdout": args.json_stdout, "replications": args.replications}
            result = w.run(text, options)
        finally:
            w.close()
        print(json.dumps({k: v for k, v in result.items() if k != "traceback"}, indent=2))
        if result.get("traceback"):
            print(result["traceback"])
        return 0 if result["outcome"] != FAILURE else 1
    result = fuzz(
        args.cases,
        args.seed,
        args.jobs,
        args.out,
        args.timeout,
        args.minimise,
        args.minimise_hangs,
        args.minimise_seconds,
    )
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
