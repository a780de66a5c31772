"""What a learner sees in a notebook: the theme, figures, question widgets and one explorer per engine
(`core/pk.py` is shown by `pk_explorer.py`, and so on).
"""
