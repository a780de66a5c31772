"""Autograde runs only the course's code: two nbgrader preprocessors that undo a learner's changes.

Learners never write code, so a submission's code cells are never run as submitted:

- `RestoreReleasedCells` (nbgrader's sanitize step) puts every code cell back as it was released,
  from the gradebook, which holds the released source of every cell `generate_assignment` made
  (answer cells hold the code stub, grading cells their hidden tests). Code cells the learner
  added (or made from a text cell), and second copies of a cell, are dropped; a deleted code cell
  is put back; a cell whose type was changed gets its type back; cell metadata is reset to the
  release's. Text cells a learner added stay, without grading settings: they are never run.
- `KeepOnlyAnswerFiles` (the autograde step, before execution) empties the folder the kernel runs
  in of everything but the notebooks, the answer store and the course's own files, so no module,
  package or configuration file a learner submitted can be imported. An answer store that was a
  link to another file is not used.

The learner's answers then enter only as data, from the answer store. Every change is logged for
the instructor, written to `<notebook>.grading_changes.json` beside the autograded notebook (read by
grade-cohort and the exports), flagged in the gradebook, and explained to the learner in a note at
the top of their graded notebook, which their feedback shows.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import from_dict

META_KEY = "ketamine_course_guard"  # notebook metadata the sanitize step writes for the autograde step
CHANGES_SUFFIX = ".grading_changes.json"
STORE_NAME = "answers.json"
NOTE_ID = "grading-changes-note"
# Cell metadata that only changes how a cell looks in JupyterLab; anything else is reset.
COSMETIC_METADATA = {"jupyter", "collapsed", "scrolled", "deletable", "editable", "trusted", "execution"}
NBGRADER_FIELDS = ("grade", "solution", "locked", "task", "points", "grade_id")
# nbgrader's record of the submission time: kept (release_feedback reads it from the feedback folder).
NBGRADER_FILES = {"timestamp.txt", "submission_secret.txt"}
# Files a learner's own folder makes while they work: removed before grading without a report.
# The course evaluation travels with the last assignment (storage/evaluation_record.py) but is never graded.
COURSE_BYPRODUCTS = ("answers.unreadable-*.json", "evaluation.json", "evaluation.unreadable-*.json")


def protect(c) -> None:
    """Put both guards into nbgrader's autograde pipeline (called from nbgrader_config.py)."""
    from nbgrader.converters.autograde import Autograde

    sanitize = [
        p for p in Autograde.class_traits()["sanitize_preprocessors"].default() if p is not RestoreReleasedCells
    ]
    sanitize.insert(1, RestoreReleasedCells)  # after ClearOutput, before nbgrader's own checks
    grading = [p for p in Autograde.class_traits()["autograde_preprocessors"].default() if p is not KeepOnlyAnswerFiles]
    grading.insert(0, KeepOnlyAnswerFiles)  # before Execute
    c.Autograde.sanitize_preprocessors = sanitize
    c.Autograde.autograde_preprocessors = grading


def _change(kind: str, cell: str, learner: str, instructor: str) -> dict:
    return {"kind": kind, "cell": cell, "learner": learner, "instructor": instructor}


def _label(grade_id: str) -> str:
    """A cell as a learner knows it: by its question, not by nbgrader's id."""
    for suffix, what in (("_answer", "the answer cell"), ("_grade", "the grading cell"), ("_task", "the task")):
        if grade_id.endswith(suffix):
            return f"{what} of question {grade_id[: -len(suffix)].replace('_', '.')}"
    return "the first code cell" if grade_id == "setup" else f"the cell named {grade_id}"


def _first_line(source: str) -> str:
    line = next((s.strip() for s in source.splitlines() if s.strip()), "").replace("`", "'")
    return line if len(line) <= 60 else line[:57] + "..."


def _has_cell_ids(nb) -> bool:
    """Cell ids exist from nbformat 4.5 on."""
    return (nb.get("nbformat", 4), nb.get("nbformat_minor", 0)) >= (4, 5)


def _nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _grade_id(cell):
    grade_id = _nbgrader_meta(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


class RestoreReleasedCells(Preprocessor):
    """Sanitize step: every code cell as released, added code cells dropped, metadata reset."""

    enabled = True

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            released = gb.find_notebook(info["notebook"], info["assignment"])
            grades = {c.name: float(c.max_score) for c in released.grade_cells}
            tasks = {c.name: float(c.max_score) for c in released.task_cells}
            solutions = {c.name for c in released.solution_cells}
            reference = {}
            order = []
            for cell in released.source_cells:
                meta = {
                    "grade": cell.name in grades,
                    "grade_id": cell.name,
                    "locked": bool(cell.locked),
                    "schema_version": 3,
                    "solution": cell.name in solutions,
                    "cell_type": cell.cell_type,
                    "checksum": cell.checksum,
                }
                if cell.name in grades:
                    meta["points"] = grades[cell.name]
                if cell.name in tasks:
                    meta.update(task=True, points=tasks[cell.name])
                reference[cell.name] = (cell.cell_type, cell.source, meta, self._as_released(cell))
                order.append(cell.name)
            kernelspec = json.loads(released.kernelspec) if released.kernelspec else None

        changes = []
        kept, seen, ids = [], set(), set()
        for cell in nb.cells:
            grade_id = _grade_id(cell)
            if grade_id in reference and grade_id not in seen:
                seen.add(grade_id)
                kept.append(self._restore(cell, grade_id, reference[grade_id], changes))
            elif grade_id in reference:
                changes.append(
                    _change(
                        "removed",
                        grade_id,
                        f"A second copy of {_label(grade_id)} was removed.",
                        f"duplicate of cell {grade_id} removed",
                    )
                )
            elif cell.cell_type == "code":
                what = f"it began: `{_first_line(cell.source)}`" if cell.source.strip() else "it was empty"
                changes.append(
                    _change(
                        "removed",
                        grade_id or "",
                        f"A code cell you added was removed ({what}).",
                        f"added code cell removed ({what})",
                    )
                )
            else:
                if "nbgrader" in cell.metadata:
                    del cell.metadata["nbgrader"]
                    changes.append(
                        _change(
                            "metadata",
                            grade_id or "",
                            "Grading settings on a text cell you added were removed.",
                            "nbgrader metadata removed from an added text cell",
                        )
                    )
                kept.append(cell)
        kept = self._put_back_missing(kept, order, reference, seen, changes)
        for cell in kept:  # cell ids (nbformat 4.5 and later) must be unique; older notebooks have none
            if not _has_cell_ids(nb):
                cell.pop("id", None)
            elif not isinstance(cell.get("id"), str) or cell["id"] in ids or cell["id"] == NOTE_ID:
                cell["id"] = uuid.uuid4().hex[:8]
            ids.add(cell.get("id"))
        nb.cells = kept
        if kernelspec:
            submitted = nb.metadata.get("kernelspec")
            # JupyterLab rewrites the display name; only another kernel, or extra fields, is a change
            if (
                not isinstance(submitted, dict)
                or submitted.get("name") != kernelspec.get("name")
                or set(submitted) - {"name", "display_name", "language"}
            ):
                changes.append(
                    _change(
                        "metadata", "", "The notebook's kernel setting was put back.", f"kernelspec {submitted!r} reset"
                    )
                )
            nb.metadata["kernelspec"] = kernelspec
        nb.metadata[META_KEY] = {
            "changes": changes,
            "store_link": Path(resources.get("metadata", {}).get("path") or ".").joinpath(STORE_NAME).is_symlink(),
        }
        for change in changes:
            self.log.warning("Grading guard (%s, %s): %s", info["student"], info["notebook"], change["instructor"])
        return nb, resources

    def _as_released(self, source_cell) -> str:
        """The source the learner received: the gradebook's, without hidden tests and mark scheme."""
        from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme

        cell = from_dict({"cell_type": source_cell.cell_type, "source": source_cell.source, "metadata": {}})
        ClearHiddenTests(parent=self)._remove_hidden_test_region(cell)
        ClearMarkScheme(parent=self)._remove_mark_scheme_region(cell)
        return cell.source

    def _restore(self, cell, grade_id, ref, changes):
        cell_type, source, meta, as_released = ref
        if cell.cell_type != cell_type:
            changes.append(
                _change(
                    "type",
                    grade_id,
                    f"The type of {_label(grade_id)} had been changed from "
                    f"{cell_type} to {cell.cell_type}; it was changed back.",
                    f"cell type of {grade_id} restored",
                )
            )
        learner_text = (
            cell.cell_type == "markdown" and cell_type == "markdown" and meta["solution"] and not meta["locked"]
        )
        if not learner_text and cell.get("source", "") not in (source, as_released):
            kind = "code" if cell_type == "code" else "text"
            changes.append(
                _change(
                    "restored",
                    grade_id,
                    f"The {kind} of {_label(grade_id)} had been edited; the course's version was put back.",
                    f"source of {grade_id} restored",
                )
            )
        old = _nbgrader_meta(cell)
        if any(_plain(old.get(k)) != _plain(meta.get(k)) for k in NBGRADER_FIELDS):
            changes.append(
                _change(
                    "metadata",
                    grade_id,
                    f"The grading settings of {_label(grade_id)} were put back.",
                    f"nbgrader metadata of {grade_id} reset",
                )
            )
        extra = sorted(
            k
            for k, v in cell.get("metadata", {}).items()
            if k not in COSMETIC_METADATA | {"nbgrader"} and v not in ([], {}, None, "")
        )
        if extra:
            changes.append(
                _change(
                    "metadata",
                    grade_id,
                    f"Extra settings on {_label(grade_id)} ({', '.join(extra)}) were removed.",
                    f"metadata {extra} of {grade_id} removed",
                )
            )
        metadata = {k: v for k, v in cell.get("metadata", {}).items() if k in COSMETIC_METADATA}
        metadata["nbgrader"] = dict(meta)
        new = {
            "cell_type": cell_type,
            "metadata": metadata,
            "source": cell.get("source", "") if learner_text else source,
        }
        if cell.get("id"):
            new["id"] = cell["id"]
        if cell_type == "code":
            new.update(outputs=[], execution_count=None)
        elif cell.get("attachments") and learner_text:
            new["attachments"] = cell["attachments"]
        return from_dict(new)

    def _put_back_missing(self, kept, order, reference, seen, changes):
        """Put back every released code cell the learner deleted, after the released cell before it."""
        for position, grade_id in enumerate(order):
            cell_type, source, meta, _ = reference[grade_id]
            if grade_id in seen or cell_type != "code":
                continue  # deleted task cells nbgrader puts back itself (add_missing_cells)
            previous = [g for g in order[:position] if g in seen]
            at = 0
            if previous:
                at = next(i for i, c in enumerate(kept) if _grade_id(c) == previous[-1]) + 1
            kept.insert(
                at,
                from_dict(
                    {
                        "cell_type": "code",
                        "metadata": {"nbgrader": dict(meta)},
                        "source": source,
                        "outputs": [],
                        "execution_count": None,
                        "id": uuid.uuid4().hex[:8],
                    }
                ),
            )
            seen.add(grade_id)
            changes.append(
                _change(
                    "restored",
                    grade_id,
                    f"{_label(grade_id).capitalize()}, which had been deleted, was put back.",
                    f"deleted code cell {grade_id} put back",
                )
            )
        return kept


def _plain(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


class KeepOnlyAnswerFiles(Preprocessor):
    """Autograde step: the grading folder holds only notebooks, the answer store and the course's files."""

    enabled = True

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        guard = nb.metadata.get(META_KEY)
        if not isinstance(guard, dict):
            raise RuntimeError(
                "The course's grading guard did not check this notebook before grading: "
                "nbgrader_config.py must call autograde_guard.protect(c)."
            )
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        changes = list(guard.get("changes", []))
        changes += self._clean(folder, info["assignment"], bool(guard.get("store_link")))
        for change in changes[len(guard.get("changes", [])) :]:
            self.log.warning("Grading guard (%s, %s): %s", info["student"], info["notebook"], change["instructor"])
        if changes:
            note = {"cell_type": "markdown", "metadata": {}, "source": learner_note(changes)}
            if _has_cell_ids(nb):
                note["id"] = NOTE_ID
            nb.cells.insert(0, from_dict(note))
        guard["changes"] = changes
        (folder / f"{info['notebook']}{CHANGES_SUFFIX}").write_text(
            json.dumps(
                {
                    "student": info["student"],
                    "assignment": info["assignment"],
                    "notebook": info["notebook"],
                    "changes": changes,
                },
                indent=1,
            ),
            encoding="utf-8",
        )
        if changes:
            self._flag(info)
        return nb, resources

    def _course_files(self, assignment) -> set:
        """Relative paths (with forward slashes on every system) of the files autograde copies from the source folder (never notebooks)."""
        try:
            from nbgrader.coursedir import CourseDirectory

            coursedir = CourseDirectory(config=self.config)
            source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
            return {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file() and p.suffix != ".ipynb"}
        except Exception:  # no course directory: keep nothing extra
            return set()

    def _clean(self, folder: Path, assignment: str, store_link: bool) -> list:
        changes = []
        keep = self._course_files(assignment)
        notebooks = {p.stem for p in folder.glob("*.ipynb")}
        for path in sorted(folder.iterdir()):
            name = path.name
            if name == STORE_NAME and not store_link and path.is_file() and not path.is_symlink():
                continue
            if path.suffix == ".ipynb" and path.is_file() and not path.is_symlink():
                continue
            if name.endswith(CHANGES_SUFFIX) and name[: -len(CHANGES_SUFFIX)] in notebooks:
                continue
            if name in NBGRADER_FILES and path.is_file() and not path.is_symlink():
                continue
            if name in keep or any(str(p).startswith(name + "/") for p in keep):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            if name == STORE_NAME:
                changes.append(
                    _change(
                        "file",
                        name,
                        "Your answers.json was a link to another file, so it was not "
                        "used: every graded answer counts as unanswered.",
                        "answers.json was a symbolic link: not used",
                    )
                )
            elif not any(path.match(pattern) for pattern in COURSE_BYPRODUCTS):
                changes.append(
                    _change(
                        "file",
                        name,
                        f"The file {name} you handed in was not used for grading.",
                        f"submitted file {name} removed before execution",
                    )
                )
        return changes

    def _flag(self, info) -> None:
        """Flag the submission in the gradebook, so the formgrader shows it to the instructor."""
        from nbgrader.api import Gradebook, MissingEntry

        try:
            with Gradebook(info["db_url"]) as gb:
                notebook = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
                notebook.flagged = True
                gb.db.commit()
        except MissingEntry:
            pass


def learner_note(changes) -> str:
    """What the learner reads at the top of their graded notebook, in plain words."""
    lines = "\n".join(f"- {c['learner']}" for c in changes)
    return (
        "**Before grading, the course put its own version of this notebook back.** Grading runs only "
        "the course's code; your answers count exactly as you saved them with the questions. "
        f"What was changed:\n\n{lines}\n\nIf you did not make these changes, tell your instructor."
    )


def read_changes(folder) -> list:
    """Every change recorded for the autograded notebooks in `folder` (an empty list if none)."""
    found = []
    for path in sorted(Path(folder).glob(f"*{CHANGES_SUFFIX}")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found += [c for c in data.get("changes", []) if isinstance(c, dict)]
        except (OSError, ValueError, AttributeError):
            continue
    return found
