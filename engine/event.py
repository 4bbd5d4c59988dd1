"""Events: the things a simulation schedules and entities handle."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.entity import Entity

#: A completion hook: called with the finish time (seconds) once an event's handling is
#: over (for a process, when it returns); may return an Event or a list of Events.
CompletionHook = Callable[[float], Any]


class Event:
    """Something that happens to ``target`` at ``time`` (seconds).

    ``context`` always holds ``id``, ``created_at`` (the time the originating request was
    created; defaults to this event's time) and ``metadata`` (a dict of per-request inputs
    such as ``weight``, ``processing_time`` and ``priority``). A dict passed in is kept by
    identity and only its missing keys are filled. Daemon events do not keep a run alive.

    Raises ValueError if ``target`` is None or ``time`` is not a number.
    """

    # _context is built on first use: most requests in a large run never look at it, and
    # a dict per request is a measurable share of the engine's time.
    #
    # _private marks an event object no user code has seen: one a built-in source made and
    # only built-in components have handled. Built-in components pass such a request on by
    # re-targeting the object itself (the fast path); any other event (made by user code,
    # returned by Entity.forward, or handed to user code at any point) is never changed by
    # the engine: passing it on makes a private copy carrying the same context
    # (see :meth:`_relay`).
    __slots__ = (
        "time",
        "event_type",
        "target",
        "daemon",
        "on_complete",
        "_context",
        "_created_at",
        "_cancelled",
        "_t_arrive",
        "_t_service",
        "_weight",
        "_private",
    )

    time: float
    event_type: str
    target: Entity
    daemon: bool
    on_complete: list[CompletionHook] | None
    _context: dict[str, Any] | None
    _created_at: float
    _cancelled: bool
    _t_arrive: float  # when the request arrived at the station holding it
    _t_service: float  # its service (or CPU) time there
    _weight: Any  # capacity units it holds under weighted concurrency
    _private: bool  # no user code has seen this object (see the note on __slots__)

    def __init__(
        self,
        time: float,
        event_type: str,
        target: Entity,
        context: dict[str, Any] | None = None,
        daemon: bool = False,
        on_complete: CompletionHook | Iterable[CompletionHook] | None = None,
    ) -> None:
        if target is None:
            raise ValueError("Event target is required, got None")
        try:
            t = float(time)
        except (TypeError, ValueError):
            raise ValueError(f"Event time must be a number of seconds, got {time!r}") from None
        if math.isnan(t):
            raise ValueError("Event time must be a number of seconds, got nan")
        self.time = t
        self.event_type = event_type
        self.target = target
        self.daemon = bool(daemon)
        if on_complete is None:
            self.on_complete = None
        elif callable(on_complete):
            self.on_complete = [on_complete]
        else:
            self.on_complete = list(on_complete)
        self._cancelled = False
        self._weight = 1
        self._private = False
        if context is None:
            self._context = None
            self._created_at = t
        else:
            if not isinstance(context, dict):
                raise TypeError(f"Event context must be a dict, got {type(context).__name__}")
            context.setdefault("id", uuid.uuid4().hex)
            context.setdefault("created_at", t)
            if not isinstance(context.setdefault("metadata", {}), dict):
                raise TypeError("Event context['metadata'] must be a dict")
            self._context = context
            self._created_at = float(context["created_at"])

    @classmethod
    def _request(cls, time: float, event_type: str, target: Entity) -> Event:
        """A fresh private request with a lazy context: the sources' allocation fast path.

        Whoever hands it to user code must clear ``_private`` first."""
        ev = cls.__new__(cls)
        ev.time = time
        ev.event_type = event_type
        ev.target = target
        ev.daemon = False
        ev.on_complete = None
        ev._context = None
        ev._created_at = time
        ev._cancelled = False
        ev._weight = 1
        ev._private = True
        return ev

    def _relay(self, target: Entity, time: float) -> Event:
        """This request, to be passed on to ``target`` at ``time`` by a built-in component.

        A private event is re-targeted in place; any other gets a private copy with the
        same context, weight and completion hooks (which move to the copy: they run when
        the request's handling is over, wherever it goes), so user code holding it never
        sees it change.
        """
        if self._private:
            self.target = target
            self.time = time
            return self
        ev = Event.__new__(Event)
        ev.time = time
        ev.event_type = self.event_type
        ev.target = target
        ev.daemon = self.daemon
        ev.on_complete = self.on_complete
        self.on_complete = None
        ev._context = self.context
        ev._created_at = self._created_at
        ev._cancelled = False
        ev._weight = self._weight
        ev._private = True
        return ev

    @property
    def context(self) -> dict[str, Any]:
        """The request's context dict (``id``, ``created_at``, ``metadata``)."""
        ctx = self._context
        if ctx is None:
            ctx = self._context = {
                "id": uuid.uuid4().hex,
                "created_at": self._created_at,
                "metadata": {},
            }
        return ctx

    @property
    def metadata(self) -> dict[str, Any]:
        """Shorthand for ``context["metadata"]``."""
        return self.context["metadata"]  # type: ignore[no-any-return]

    @property
    def created_at(self) -> float:
        """When the originating request was created (seconds)."""
        ctx = self._context
        return self._created_at if ctx is None else float(ctx["created_at"])

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled

    def cancel(self) -> None:
        """Make the simulation skip this event when its time comes."""
        self._cancelled = True

    def add_completion_hook(self, hook: CompletionHook) -> None:
        """Run ``hook(finish_time)`` once this event's handling is over."""
        if self.on_complete is None:
            self.on_complete = [hook]
        else:
            self.on_complete.append(hook)

    def _share_context_with(self, other: Event) -> None:
        """Make ``self`` carry the very same context as ``other``."""
        self._context = other.context
        self._created_at = other._created_at

    def __repr__(self) -> str:
        name = getattr(self.target, "name", type(self.target).__name__)
        return f"Event({self.time!r}, {self.event_type!r}, target={name!r})"
