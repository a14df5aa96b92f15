"""Classroom mode of the teaching demo (``govsim-demo --classroom``): each student leads an organisation.

One copy of a case runs per group of students, all on the same seed and events; every round each
student chooses how their organisation is led, a server-side round driver runs the round, and the
debrief sets the groups side by side with the same case replayed under all-facilitative and
all-directive leadership. See ``docs/classroom.md``.
"""

from .session import CHOICE_FIELDS, LEVELS, Choice, JoinRefused, Session, Settings, read_log, replay

__all__ = ["CHOICE_FIELDS", "LEVELS", "Choice", "JoinRefused", "Session", "Settings", "read_log", "replay"]
