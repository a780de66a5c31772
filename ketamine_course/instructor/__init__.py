"""Running a class with nbgrader: the autograde guard, the late policy, cohort grading, exports and
item analysis.
"""
