"""nbgrader configuration: the repository root is the nbgrader course.

solutions/   the instructor's versions (nbgrader's source folder: solutions and hidden tests)
assignments/ the student versions, made by `nbgrader generate_assignment`; never edited by hand
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, GetGrades

from ketamine_course.instructor import autograde_guard, release_check
from ketamine_course.runtime import course_copy

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "ketamine-therapy"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
# Students fetch and submit through nbgrader's exchange, a folder every account can write to. Its root
# is nbgrader's default (/usr/local/share/nbgrader/exchange) unless c.Exchange.root or --Exchange.root
# says otherwise; permissions, student ids and the command sequence: docs/exchange.md.
# A learner's answers.json travels with their notebook (submit, collect, autograde); only the
# answer store's lock and temporary files stay behind.
c.CourseDirectory.ignore = list(course_copy.LEFT_BEHIND)  # checkpoints, caches, the store's lock and temp files
# Autograde copies the source folder's files over each submission: never an answer store.
# (The course never writes one in solutions/, see ketamine_course/storage/answer_store.py; this is a second guard.)
_source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "solutions")
c.Autograde.exclude_overwriting = {
    name: ["answers.json"] for name in (os.listdir(_source) if os.path.isdir(_source) else [])
}

# What a clinician sees where the solution was: a friendly line, not `raise NotImplementedError()`.
c.ClearSolutions.code_stub = {"python": "# Your answer is saved automatically when you use the question in this cell."}
c.ClearSolutions.text_stub = "Write your answer in the box above."

# Grading runs only the course's code: before execution every code cell is put back as released, code
# cells a learner added are dropped, and the folder keeps only the notebook and its answer store.
# What was undone is logged, flagged in the gradebook and explained to the learner
# (ketamine_course/instructor/autograde_guard.py).
autograde_guard.protect(c)
# No assignment is released while the course's credit facts (content/credit.yaml) are missing or invalid.
release_check.protect_release(c)

# A cell that runs longer than this is stopped and scores 0; the rest of the notebook is still graded.
c.Execute.timeout = 30
# A learner who deletes a grade cell is still graded on it: nbgrader puts the cell back.
c.OverwriteCells.add_missing_cells = True

# Feedback shows each result and its rationale, never the hidden tests or the graders' rubric
# (hidden tests leak into feedback by default: nbgrader issues 917 and 1363).
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests, ClearMarkScheme]

# Late work: each started day after the due date (plus any extension) costs a share of the notebook's
# points, never taking a score below zero. Due dates: `nbgrader db assignment add ps1_mechanism
# --duedate="2026-12-01 17:00:00 Europe/London"` (docs/exchange.md).
c.AssignLatePenalties.plugin_class = "ketamine_course.instructor.late_policy.PerDayLatePenalty"
c.PerDayLatePenalty.share_per_day = 0.10  # 10% of the points per started day late
