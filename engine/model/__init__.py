"""The model document: load, validate, save, and build into a simulation."""

from engine.model.build import Run, build, replication_seeds
from engine.model.document import (
    Link,
    Model,
    ModelError,
    Node,
    SimulationSettings,
    dumps_model,
    load_model,
    loads_model,
    model_from_dict,
    open_model,
    opens_model,
    save_model,
)
from engine.model.validate import Report, arrival_rates, check_document, offered_load

__all__ = [
    "Link",
    "Model",
    "ModelError",
    "Node",
    "Report",
    "Run",
    "SimulationSettings",
    "arrival_rates",
    "build",
    "check_document",
    "dumps_model",
    "load_model",
    "loads_model",
    "model_from_dict",
    "offered_load",
    "open_model",
    "opens_model",
    "replication_seeds",
    "save_model",
]
