"""Password hashing with argon2id (argon2-cffi); hashes made with other parameters are redone at the next login."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing a megabyte on every attempt would be a way to load the console


class Passwords:
    """Hashes and checks passwords off the event loop (argon2 is meant to be slow)."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))  # checked for unknown e-mails: equal work

    async def hash(self, password: str) -> str:
        """A new hash of a password."""
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """True when `password` matches `stored`; with no stored hash a decoy is checked, so both take as long."""
        return await asyncio.to_thread(self._verify, stored or self._decoy, password) and stored is not None

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True when `stored` was made with other parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored)
