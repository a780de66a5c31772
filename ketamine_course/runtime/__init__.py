"""The outside programs the course drives (nbgrader, JupyterLab, Chromium), free ports, console
progress bars, and what a copy of the course leaves out.
"""
