"""The user docs are generated from the schema and cannot drift from the code."""

import inspect
from pathlib import Path

from engine.components.server import AsyncServer, Server, ThreadPool
from engine.distributions import DISTRIBUTION_FIELDS
from engine.model import docs
from engine.model.schema import KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "model-format.md"


def test_committed_model_format_doc_is_what_the_schema_generates():
    assert DOC.read_text(encoding="utf-8") == docs.render(), "run: python -m engine.model.docs > docs/model-format.md"


def test_every_parameter_of_every_kind_is_documented_with_help():
    text = DOC.read_text(encoding="utf-8")
    for kind in KINDS.values():
        assert f"### `{kind.name}`" in text
        for param in kind.params:
            assert param.help.strip(), f"{kind.name}.{param.name} has no help text"
            assert f"| `{param.name}` |" in text


def test_every_distribution_and_its_fields_are_documented():
    text = DOC.read_text(encoding="utf-8")
    for name, fields in DISTRIBUTION_FIELDS.items():
        assert f"| `{name}` |" in text
        for field in fields:
            assert f"`{field}`" in text


def test_model_parameters_cover_the_seed_constructor_parameters_that_take_data():
    # Parameters that take code in the engine (handlers, extractors) stand in the file as
    # distributions; everything else a constructor takes must be a documented parameter.
    code_only = {"name", "downstream", "io_handler", "processing_time_extractor", "default_processing_time"}
    for kind, cls in (("server", Server), ("thread_pool", ThreadPool), ("async_server", AsyncServer)):
        names = {p.name for p in KINDS[kind].params}
        for param in inspect.signature(cls).parameters:
            if param in code_only:
                continue
            assert param in names, f"{cls.__name__}({param}=…) has no model-file parameter"
