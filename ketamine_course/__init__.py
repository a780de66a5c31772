"""Ketamine Therapy for Clinicians: the course's logic.

The folders are floors; a module imports only from floors below its own (docs/architecture.md):

    ui, grading, cli          what notebooks, hidden tests and the shell call
    selfstudy, instructor, publish, workshop
    widgets                   what a learner sees in a notebook
    runtime                   nbgrader, JupyterLab, Chromium, ports, course copies
    storage                   the files the course writes
    content                   YAML content, its schema, citations
    core                      pure rules and calculations

Importing the package is light: plotting libraries load only when a figure is drawn.
"""

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.2.0"

# Module paths of release 0.1, kept for one release so that submissions collected under it still
# grade (their notebooks import e.g. `ketamine_course.monitoring_sim`). Remove in release 0.3.
MOVED = {
    "scoring": "core.scoring",
    "pk": "core.pk",
    "evidence": "core.evidence",
    "screening": "core.screening",
    "monitoring": "core.monitoring",
    "models": "content.models",
    "citations": "content.citations",
    "safe_files": "storage.json_files",
    "answer_store": "storage.answer_store",
    "learner_progress": "storage.progress_record",
    "progress_bar": "runtime.console_progress",
    "figures": "widgets.figures",
    "mechanism": "widgets.mechanism_diagram",
    "pk_explorer": "widgets.pk_explorer",
    "evidence_explorer": "widgets.evidence_explorer",
    "evidence_map": "widgets.evidence_map",
    "screening_tool": "widgets.screening_explorer",
    "monitoring_sim": "widgets.monitoring_explorer",
    "adverse_effects": "widgets.adverse_effect_charts",
    "regulatory_table": "widgets.regulatory_table",
    "self_grading": "selfstudy.grade_my_work",
    "certificate": "selfstudy.certificate",
    "dashboard": "selfstudy.dashboard",
    "progress_report": "selfstudy.progress_report",
    "cohort": "instructor.cohort",
    "item_analysis": "instructor.item_analysis",
    "autograde_guard": "instructor.autograde_guard",
    "late_policy": "instructor.late_policy",
    "reader": "publish.reader",
    "handouts": "publish.handouts",
    "widget_snapshot": "publish.widget_snapshot",
}


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes `ketamine_course.<old name>` the very module now at its new path."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package == __name__ and name in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        module = importlib.import_module(f"{__name__}.{MOVED[spec.name.rpartition('.')[2]]}")
        self._own_spec = module.__spec__  # the import system overwrites it with the old path's spec
        return module

    def exec_module(self, module):
        module.__spec__ = self._own_spec  # nothing to run: the module at its new path is already loaded


sys.meta_path.append(_OldPaths())
