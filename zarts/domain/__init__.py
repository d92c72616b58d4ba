"""The domain layer: the only code that changes an opportunity's stage, an approval's state, a
proposal's status or the client-safe status of any text. Admin, workspace, portal and jobs call it.

Functions flush but never commit: the caller commits (or rolls back on DomainError) so the change,
its events, its tasks and its outbox rows land in one transaction.
"""

from .errors import Conflict, DomainError, Forbidden, GateRefused, Invalid, Missing  # noqa: F401

from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError


@contextmanager
def unit(session):
    """One user action = one transaction: commit on success; on any refusal roll back everything.

    A concurrent update of the same row (version mismatch at flush) becomes a Conflict; a unique
    key taken by a concurrent identical action becomes a Conflict as well.
    """
    try:
        yield
        session.commit()
    except DomainError:
        session.rollback()
        raise
    except StaleDataError:
        session.rollback()
        raise Conflict() from None
    except IntegrityError:
        session.rollback()
        raise Conflict(
            message="Someone else made the same change at the same moment. Reload to see the current state."
        ) from None
    except BaseException:
        session.rollback()
        raise


# The reminder sweep's bookkeeping listeners (a lead resumed or given consent, a task moved to
# another day) must be registered wherever leads and tasks change, not only where the sweep runs.
from . import reminders  # noqa: F401, E402

# Webhooks listen to every recorded event (trail.EVENT_LISTENERS): registered wherever events are made.
from . import webhooks  # noqa: F401, E402
