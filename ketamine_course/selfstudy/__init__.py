"""Studying alone: the progress dashboard, grade my work, and the certificate."""
