"""Password hashing: argon2id at OWASP's recommended strength (19 MiB, t=2, p=1)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A real hash to verify against when the account does not exist, so timing does not reveal it.
_DUMMY = _hasher.hash("not-a-real-password")

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """A message for the user when the password is too weak, else None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > 256:
        return "Use at most 256 characters."
    if password.strip() == "" or len(set(password)) < 4:
        return "Choose a less predictable password."
    return None
