"""Pure Python: the course's rules and calculations (scoring, pharmacokinetics, evidence statistics,
screening, session monitoring, item statistics, late penalties). No widgets, plots, files or nbgrader.
"""
