"""nbgrader releases no assignment while the course's credit facts are missing or invalid.

`protect_release(c)` (called from nbgrader_config.py) puts `RequireCreditFacts` first among
`generate_assignment`'s preprocessors: it loads content/credit.yaml, and a missing or invalid file
stops the release with the loader's message.
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor

from ketamine_course.content import CreditFactsError, credit_facts


class RequireCreditFacts(Preprocessor):
    """Stops generate_assignment when content/credit.yaml is missing or invalid."""

    enabled = True  # nbconvert runs a preprocessor only when it is enabled

    def preprocess(self, nb, resources):
        try:
            credit_facts()
        except CreditFactsError as problem:
            self.log.error("%s", problem)
            raise
        return nb, resources


def protect_release(c) -> None:
    """Check the credit facts before nbgrader's own steps of generate_assignment."""
    from nbgrader.converters import GenerateAssignment

    default = GenerateAssignment.class_traits()["preprocessors"].default()
    c.GenerateAssignment.preprocessors = [RequireCreditFacts] + [p for p in default if p is not RequireCreditFacts]
