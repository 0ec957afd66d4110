"""Resource state: storage, queries, watch."""

from talos.cosi.state.events import Event, EventType
from talos.cosi.state.query import EVERYTHING, LabelOp, LabelQuery, LabelTerm, Query, equal
from talos.cosi.state.state import State
from talos.cosi.state.watch import Watch

__all__ = ["EVERYTHING", "Event", "EventType", "LabelOp", "LabelQuery", "LabelTerm", "Query",
           "State", "Watch", "equal"]
