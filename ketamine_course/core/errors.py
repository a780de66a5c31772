"""The one base class of the course's own errors.

Every error the course raises on purpose carries a message written for the person at the keyboard.
`ketamine-course` prints that message and exits with the error's `exit_status` (in `cli.main`, the only place that
ends the process); widgets show it in a panel. Library code raises, it never exits.
"""


class CourseError(Exception):
    """A problem the user can act on; `str(error)` says what happened and what to do."""

    exit_status = 1  # what `ketamine-course` exits with; 2 for a command that cannot start as asked
