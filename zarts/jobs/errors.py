"""What a job raises when it can never succeed as asked: its own module, so the job functions (mail,
notify, ...) need not import the runner that imports them."""


class Permanent(Exception):
    """A job that can never succeed as asked (unknown job, missing row): no retry."""
