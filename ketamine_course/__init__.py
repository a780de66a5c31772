"""Ketamine Therapy for Clinicians: the course's logic (content, widgets, grading, commands).

Importing the package is light: plotting libraries load only when a figure is drawn.
"""
__version__ = "0.1.0"
