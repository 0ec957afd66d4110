"""Trust and bootstrap tokens: `[a-z0-9]{6}.[a-z0-9]{16}`, as Talos and kubeadm generate them."""

from __future__ import annotations

import hmac
import re
import secrets

from talos.machinery.errors import InvalidArgument

TOKEN_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
TOKEN_PATTERN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")


def generate_token(first: int = 6, second: int = 16) -> str:
    """A random token `xxxxxx.yyyyyyyyyyyyyyyy` (uniform over [a-z0-9])."""
    def part(n: int) -> str:
        return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(n))
    return f"{part(first)}.{part(second)}"


def check_token_format(token: str, *, what: str = "token") -> str:
    """Returns the token if it has the Talos shape, else raises naming the expected shape."""
    if not TOKEN_PATTERN.match(token):
        raise InvalidArgument(
            f"{what}: invalid token format (expected [a-z0-9]{{6}}.[a-z0-9]{{16}})")
    return token


def token_matches(expected: str, presented: str) -> bool:
    """Constant-time comparison of a presented token with the expected one."""
    return hmac.compare_digest(expected.encode(), presented.encode())
