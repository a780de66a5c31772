"""The workshop server: the course on JupyterHub for a class on one machine.

    ketamine-course workshop start --people people.txt --admin NAME   start it (creates what is missing)
    ketamine-course workshop add-participants people.txt              more accounts, while it runs
    ketamine-course workshop start --lti-platform platform.json ...   log in by launches from Moodle, Canvas...
    ketamine-course workshop status                                   is it running; servers and memory
    ketamine-course workshop stop                                     stop the hub and every server

Everyone is a real Unix account: participants in one group, instructors in another (the list file
says who is who). JupyterHub (workshop/jupyterhub_config.py) starts each person's JupyterLab as
that account from the course's Python environment. Under the workshop folder (default
/srv/ketamine-course):

    exchange/  nbgrader's exchange, where assignments are released and submitted (mode 1777)
    grading/   the instructors' nbgrader course: a copy of the course and the gradebook (group only)
    jupyter/   Jupyter settings for the servers, one folder for each role (read-only)
    state/     the hub's database, cookie secret, passwords, pid and log (root only, 0700)

One module a job, each importing only those above it in this list:

    settings   Settings (saved in state/, passed to the hub as KETAMINE_WORKSHOP_*), WorkshopError
    checks     what must hold before the hub starts: root, settings, address, ports, proxy, an
               environment every account can run, prepared folders
    people     the list file, Unix accounts and groups, first and workshop-mode passwords
    folders    the exchange, the grading course, each role's Jupyter settings, the state folder
    servers    each person's JupyterLab: the hub's pre-spawn hook, its environment, its memory
    lti        launches from a learning platform (LTI 1.3): its registration, the hub's login, the
               accounts launches create, what grade passback needs (instructor/grade_passback.py)
    hub        the hub process: start, stop, status, and accounts added while it runs
    commands   `ketamine-course workshop ...`

docs/workshop-server.md explains how to run a workshop.
"""
