"""Extension points of pytest-tinyai: implement these hooks in a conftest.py (the rootdir's, or any conftest
pytest loads before configuring) or in a plugin, and the parts they return join the built-in ones by name.

Every hook returns a list (or, for sidecar fields, a mapping); pytest calls every implementation and the
plugin merges the results with the built-ins. A name given twice is a usage error. This module imports nothing
heavy, so that loading the plugin costs nothing in a session that names no registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_tinyai.checks import Check
    from pytest_tinyai.kinds import ModelKind
    from pytest_tinyai.metrics import Metric
    from pytest_tinyai.registry_formats import RegistryFormat


def pytest_tinyai_checks() -> list[Check]:
    """Checks to run on every model they apply to; each becomes `<name>[<model id>]` items marked `tinyai_<name>`.

    A check's `run(model, context)` is a pure function returning its findings (or a `CheckResult` with what it
    measured); it never raises for a finding. Example::

        from pytest_tinyai.checks import Check
        from pytest_tinyai.findings import Finding

        def no_big_models(model, context):
            size = model.proto.ByteSize()
            return [Finding(model.id, "size", f"{size:,} bytes > 1 MB")] if size > 1_000_000 else []

        def pytest_tinyai_checks():
            return [Check("size", "the serialised graph is at most 1 MB", no_big_models)]
    """


def pytest_tinyai_model_kinds() -> list[ModelKind]:
    """Model kinds, by the name a sidecar's `tinyai.contract.kind` gives: how fold samples become feeds and outputs
    become predictions (see `pytest_tinyai.kinds.ModelKind`). Example::

        class QualityPair:
            name = "fr_score"
            def samples(self, fold_root): ...          # e.g. rows of fold_root / "scores.csv"
            def content_hash(self, fold_root): ...
            def feeds(self, sample, contract): ...     # {"ref": ..., "dist": ...}
            def truth(self, sample): ...               # the mean opinion score
            def prediction(self, outputs, contract): ...  # float(outputs["score"])

        def pytest_tinyai_model_kinds():
            return [QualityPair()]
    """


def pytest_tinyai_metrics() -> list[Metric]:
    """Metrics a gate may name in `tinyai.gate.metric`: `score(predictions, truths) -> float`, higher is better.
    Example::

    import numpy as np
    from pytest_tinyai.metrics import Metric

    def pytest_tinyai_metrics():
        return [Metric("plcc", "Pearson correlation with the opinion scores",
                       lambda predictions, truths: float(np.corrcoef(predictions, truths)[0, 1]))]
    """


def pytest_tinyai_sidecar_fields() -> dict[str, dict[str, Any]]:
    """A plugin's own declarative sidecar blocks, each with the JSON schema its value must satisfy. They join
    pytest-tinyai's blocks in the sidecar's `tinyai` namespace, where an unknown key still fails the schema, so a
    typo cannot switch a check off; a check reads its block as `model.tinyai.get(name)`. A name may not be one of
    the built-in blocks. The owner's top-level fields need no registering: any field outside the namespace is
    allowed. Example::

        def pytest_tinyai_sidecar_fields():
            return {"reviewers": {"type": "array", "items": {"type": "string"}, "minItems": 1}}

    declared as `{"tinyai": {"reviewers": ["ana", "ben"]}, ...}`.
    """


def pytest_tinyai_registry_formats() -> list[RegistryFormat]:
    """Registry formats: a parsed registry document that a format `matches` is turned into the C runtime's
    `{"schema_version", "models": [...]}` by its `to_registry` before anything else reads it. Example::

        from pytest_tinyai.registry_formats import RegistryFormat

        def pytest_tinyai_registry_formats():
            return [RegistryFormat(
                "model-list",
                matches=lambda document: isinstance(document, list),
                to_registry=lambda document: {"schema_version": 0, "models": document},
            )]
    """
