"""Background work: the outbox relay, RQ job functions, schedules and the worker entry."""


def init_jobs(app) -> None:
    pass
