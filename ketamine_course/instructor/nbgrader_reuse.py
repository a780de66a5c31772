"""What nbgrader's autograde builds again for every notebook, built once while a grader runs.

For each notebook, nbgrader's autograde opens the gradebook about ten times, and every `Gradebook`
creates a new SQLAlchemy engine (a new dialect set-up and a new cache of compiled statements); and
its metadata check validates each grade cell with `jsonschema.validate`, which checks the nbgrader
schema itself and builds a validator every time. Neither depends on the notebook. Within
`reused_by_nbgrader()`:

- `nbgrader.api.create_engine` gives one engine per gradebook URL (and options). `Gradebook` still
  checks the tables, opens its own session and closes it; its `close()` still disposes of the
  engine's connections, so connections are used as under `nbgrader autograde`. Only the engine (and
  the statements it compiled) lives on. The engines are disposed of at the end.
- `nbgrader.nbgraderformat.common.jsonschema.validate` checks each schema once and reuses its
  validator; it raises what `jsonschema.validate` raises (the same best-matching error).

Both are replaced in this one place, for the `with` block, and put back after it. They change what
this process does, so only the pool grader's own process uses them (`grade-cohort`), never a
library that others import while grading.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from types import SimpleNamespace

import nbgrader.api
import nbgrader.nbgraderformat.common

JSONSCHEMA = nbgrader.nbgraderformat.common.jsonschema  # the jsonschema module nbgrader checks metadata with
_PATCH_LOCK = threading.Lock()
_depth = 0  # nested or concurrent `with` blocks share the one replacement


class SharedEngines:
    """`create_engine` that gives the engine it made before for the same URL and options."""

    def __init__(self, create_engine):
        self._create_engine = create_engine
        self._engines = {}
        self._lock = threading.Lock()

    def __call__(self, url, **options):
        key = (str(url), repr(sorted(options.items())))
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = self._create_engine(url, **options)
            return engine

    def dispose_all(self) -> None:
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.dispose()


class CheckedSchemas:
    """`jsonschema.validate`, each schema checked once and its validator kept."""

    def __init__(self):
        self._validators = {}
        self._lock = threading.Lock()

    def validate(self, instance, schema, cls=None, *args, **kwargs) -> None:
        key = (json.dumps(schema, sort_keys=True), cls, repr(args), repr(sorted(kwargs.items())))
        with self._lock:
            validator = self._validators.get(key)
        if validator is None:
            found = cls or JSONSCHEMA.validators.validator_for(schema)
            found.check_schema(schema)
            validator = found(schema, *args, **kwargs)
            with self._lock:
                self._validators[key] = validator
        error = JSONSCHEMA.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


@contextmanager
def reused_by_nbgrader():
    """Within the block, nbgrader reuses its gradebook engines and schema validators (see the module)."""
    global _depth
    with _PATCH_LOCK:
        _depth += 1
        if _depth == 1:
            engines = SharedEngines(nbgrader.api.create_engine)
            schemas = CheckedSchemas()
            nbgrader.api.create_engine = engines
            nbgrader.nbgraderformat.common.jsonschema = SimpleNamespace(validate=schemas.validate)
    try:
        yield
    finally:
        with _PATCH_LOCK:
            _depth -= 1
            if _depth == 0:
                engines = nbgrader.api.create_engine
                nbgrader.api.create_engine = engines._create_engine
                nbgrader.nbgraderformat.common.jsonschema = JSONSCHEMA
                engines.dispose_all()
