"""Side-by-side benchmark of Workq against Celery, Dramatiq and RQ (see ``bench.run``)."""
