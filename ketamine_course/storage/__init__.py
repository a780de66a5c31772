"""The files the course writes: where they live, how they are written safely, the answer store
beside each assignment and the learner's progress record.
"""
