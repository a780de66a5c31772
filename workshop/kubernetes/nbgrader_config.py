"""nbgrader's settings in the Kubernetes single-user image (/etc/jupyter/nbgrader_config.py).

Every pod runs as the same uid, so a shared exchange folder cannot keep participants' submissions
apart: the exchange is ngshare, a JupyterHub service, when NGSHARE_URL is set. Instructors' pods
(KETAMINE_COURSE_ROLE=instructor, set by the hub's pre-spawn hook in config.yaml) grade in the
shared grading volume, with the gradebook on PostgreSQL (NBGRADER_DB_URL).
"""

import os

from ketamine_course.runtime import course_copy

c = get_config()  # noqa: F821 (provided by nbgrader)
c.CourseDirectory.course_id = "ketamine-therapy"
c.CourseDirectory.ignore = list(course_copy.LEFT_BEHIND)

if os.environ.get("NGSHARE_URL"):
    from ngshare_exchange import configureExchange

    configureExchange(c, os.environ["NGSHARE_URL"])
else:  # a ReadWriteMany volume mounted at /srv/nbgrader/exchange: for a group that trusts each other only
    c.Exchange.root = "/srv/nbgrader/exchange"

if os.environ.get("KETAMINE_COURSE_ROLE") == "instructor":
    c.CourseDirectory.root = "/home/jovyan/grading"
    if os.environ.get("NBGRADER_DB_URL"):
        c.CourseDirectory.db_url = os.environ["NBGRADER_DB_URL"]
