"""Who is calling: passwords (argon2id) and signed, expiring bearer tokens (JWT, HS256).

* ``credentials.json`` maps user uids to argon2id password hashes::

      {"users": {"User::\\"andrew\\"": "$argon2id$v=19$m=65536,t=3,p=4$..."}}

  ``python -m tinytodo_server hash-password`` prints a hash to put there. The file
  shipped in ``tinytodo/`` holds the demo users' hashes (their passwords are in
  ``tinytodo/README.md``; never use them for anything real).
* ``POST /api/login`` checks a password and returns a token whose subject is the user;
  every other API call takes its principal from that token (``Authorization: Bearer``).
  Tokens are HS256 JWTs signed with a secret every replica shares (``TINYTODO_SECRET``,
  or a secret file created on first start), and expire (default one hour).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cedarlang import CedarError, EntityUid, parse_entity_uid

from .model import USER_TYPE

ISSUER = "tinytodo"
ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
VERIFIED_TOKENS = 10_000
"""Tokens whose signature a process remembers having checked (least recently used dropped)."""

_hasher = PasswordHasher()
# Verifying against this when the user is unknown costs what a real check costs, so
# the answer's timing does not tell which user names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(Exception):
    """Bad credentials or a bad token (answered 401), or a bad credentials file."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class Credentials:
    """User uid → argon2 hash."""

    hashes: dict[EntityUid, str]

    @classmethod
    def load(cls, path: Path) -> Credentials:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise AuthError(f"cannot read the credentials file {path}: {err}") from err
        except json.JSONDecodeError as err:
            raise AuthError(f"{path} is not valid JSON: {err}") from err
        users = data.get("users") if isinstance(data, dict) else None
        if not isinstance(users, dict):
            raise AuthError(f'{path}: expected {{"users": {{"User::\\"name\\"": "<argon2 hash>", ...}}}}')
        hashes: dict[EntityUid, str] = {}
        for key, value in users.items():
            try:
                uid = parse_entity_uid(key)
            except CedarError as err:
                raise AuthError(f"{path}: bad user uid {key!r}: {err}") from None
            if uid.type != USER_TYPE:
                raise AuthError(f"{path}: {key} is not a User")
            if not isinstance(value, str) or not value.startswith("$argon2"):
                raise AuthError(f"{path}: the password of {key} must be an argon2 hash")
            hashes[uid] = value
        return cls(hashes)

    def verify(self, user: EntityUid, password: str) -> bool:
        """Whether ``password`` is ``user``'s (constant work whether or not the user exists)."""
        stored = self.hashes.get(user)
        try:
            return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True)
class TokenIssuer:
    secret: bytes
    ttl: float = 3600.0
    _verified: OrderedDict[str, tuple[EntityUid, int]] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )
    """Token -> (subject, expiry) of tokens whose signature and claims were checked."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_BYTES:
            raise AuthError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")

    def issue(self, user: EntityUid, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {"sub": str(user), "iss": ISSUER, "iat": issued, "exp": issued + int(self.ttl)}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def subject(self, token: str) -> EntityUid:
        """The user a valid, unexpired token was issued to (else AuthError).

        A client sends the same token with every call, so the signature of a token is
        checked once per process (the token, exactly as sent, is remembered with its
        subject and expiry, for up to :data:`VERIFIED_TOKENS` tokens); its expiry is
        checked on every call."""
        with self._lock:
            known = self._verified.get(token)
            if known is not None:
                self._verified.move_to_end(token)
        if known is None:
            known = self._verify(token)
            with self._lock:
                self._verified[token] = known
                if len(self._verified) > VERIFIED_TOKENS:
                    self._verified.popitem(last=False)
        user, expires = known
        if expires <= time.time():  # as PyJWT: expired from the `exp` second on
            raise AuthError("the token has expired: log in again")
        return user

    def _verify(self, token: str) -> tuple[EntityUid, int]:
        """Check the signature and claims: the token's user and expiry."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired: log in again") from None
        except jwt.PyJWTError:
            raise AuthError("invalid token") from None
        try:
            user = parse_entity_uid(str(claims["sub"]))
        except CedarError:
            raise AuthError("invalid token") from None
        if user.type != USER_TYPE:
            raise AuthError("invalid token")
        return user, int(claims["exp"])


def load_secret(environ_value: str | None, path: Path) -> bytes:
    """The token secret: ``TINYTODO_SECRET`` if set, else the secret file (created with a
    fresh random secret, readable only by its owner, when missing)."""
    if environ_value:
        return environ_value.encode("utf-8")
    if not path.exists():
        # Write a temporary file, then link it into place: the link fails if another
        # replica won the race, so every replica ends up reading the same full secret.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        except OSError as err:
            raise AuthError(f"cannot create the secret file {path}: {err}") from err
        finally:
            tmp.unlink(missing_ok=True)
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise AuthError(f"cannot read the secret file {path}: {err}") from err
    return secret.encode("utf-8")
