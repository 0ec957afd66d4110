"""ImageService.Verify: an image reference checked against the machine config's
ImageVerificationConfig rules, as upstream siderolabs/talos v1.13.9 does
(internal/pkg/containers/image/verify/verify.go, security.ImageVerificationRuleMatcher).

- The reference is parsed as go-containerregistry's `name.ParseReference` does (default,
  non-strict options); what is matched is its repository ("context"): registry/repository,
  without tag or digest, with Docker Hub normalised to `index.docker.io/library/NAME`.
- Rules are tried in config order (upstream's rule ids "0000", "0001", ...), the first whose
  `image` glob matches wins; the glob is ryanuber/go-glob's: `*` matches any run of
  characters, `/` included, nothing else is special.
- No rule matches (or none configured): verified=false, "no matched rule". A `deny` rule:
  PermissionDenied "verification denied by matched rule (ID)". A `skip` rule:
  verified=false, "verification skipped by matched rule (ID)".
- A rule with a cosign verifier (keyless or public key) needs a sigstore client (signature
  lookup in the registry, Fulcio/Rekor trust roots), which this node has not: the answer is
  FailedPrecondition naming the rule, never a claimed verification. The request's
  credentials only matter for that registry access and are not used.
- Every pull consults the same rules first (`check_pull`, as upstream's image.Pull): a
  denied image, or one whose signature would have to be checked, is not pulled.
"""

from __future__ import annotations

import string
import urllib.parse
from dataclasses import dataclass
from typing import Any

from talos.api.machine import image_pb2
from talos.machinery.config.documents import ImageVerificationConfig, ImageVerificationRule
from talos.machinery.errors import FailedPrecondition, InvalidArgument, PermissionDenied

DEFAULT_REGISTRY = "index.docker.io"
_REGISTRY_ALIAS = "docker.io"
_REPOSITORY_CHARS = frozenset(string.ascii_lowercase + string.digits + "_-./")
_TAG_CHARS = frozenset(string.ascii_letters + string.digits + "_-.")
_HEX = frozenset(string.hexdigits.lower())


def _repository(name: str) -> str | None:
    """go-containerregistry NewRepository: registry/repository (the "context"), or None."""
    registry, repo = "", name
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first):
        registry, repo = first, rest
    if not 2 <= len(repo) <= 255 or not set(repo) <= _REPOSITORY_CHARS:
        return None
    if registry:
        try:
            if urllib.parse.urlsplit("//" + registry).netloc != registry or "@" in registry:
                return None
        except ValueError:
            return None
    if registry in ("", _REGISTRY_ALIAS):
        registry = DEFAULT_REGISTRY
        if "/" not in repo:
            repo = "library/" + repo
    return f"{registry}/{repo}"


def _tag_context(name: str) -> str | None:
    base = name
    head, colon, tag = name.rpartition(":")
    if colon and "/" not in tag:
        if not tag or len(tag) > 128 or not set(tag) <= _TAG_CHARS:
            return None
        base = head
    return _repository(base)


def _digest_context(name: str) -> str | None:
    parts = name.split("@")
    if len(parts) != 2:
        return None
    base, digest = parts
    hexpart = digest.removeprefix("sha256:")
    if hexpart == digest or len(hexpart) != 64 or not set(hexpart) <= _HEX:
        return None
    return _tag_context(base)


def reference_context(ref: str) -> str:
    """registry/repository of `ref` as go-containerregistry normalises it; InvalidArgument
    with upstream's wording when `ref` is not a tag or digest reference."""
    context = _tag_context(ref) or _digest_context(ref)
    if context is None:
        raise InvalidArgument(f"image reference is invalid: could not parse reference: {ref}")
    return context


def glob(pattern: str, subject: str) -> bool:
    """ryanuber/go-glob: `*` matches any characters (including none)."""
    if pattern == "*":
        return True
    parts = pattern.split("*")
    if len(parts) == 1:
        return subject == pattern
    for i, part in enumerate(parts[:-1]):
        idx = subject.find(part)
        if (i == 0 and not pattern.startswith("*") and idx != 0) or idx < 0:
            return False
        subject = subject[idx + len(part):]
    return pattern.endswith("*") or subject.endswith(parts[-1])


@dataclass(frozen=True)
class Rule:
    id: str
    rule: ImageVerificationRule


def rules_of(config: Any) -> list[Rule]:
    """The rules of the config's ImageVerificationConfig document, with upstream's ids."""
    doc = config.document("ImageVerificationConfig") if config is not None else None
    model = doc.model if doc is not None else None
    if not isinstance(model, ImageVerificationConfig):
        return []
    return [Rule(f"{i:04d}", r) for i, r in enumerate(model.rules or [])]


def match(rules: list[Rule], context: str) -> Rule | None:
    return next((r for r in rules if r.rule.image and glob(r.rule.image, context)), None)


def check_pull(config: Any, ref: str) -> None:
    """Refuse a pull of `ref` the rules do not allow, as upstream's image.Pull does before
    any pull (ImageService.Pull, the upgrade's installer image, service images): a `deny`
    rule is PermissionDenied, a rule that needs a signature check FailedPrecondition (this
    node cannot check it, so the image is not pulled unchecked); no rule or a `skip` rule
    lets the pull go on. With no rules configured nothing is parsed (the pull itself
    reports a malformed reference)."""
    rules = rules_of(config)
    if rules:
        verify_rules(rules, ref)


def verify(config: Any, request: image_pb2.ImageServiceVerifyRequest
           ) -> image_pb2.ImageServiceVerifyResponse:
    """Upstream's answer to `request` under `config`'s rules (see the module docstring)."""
    return verify_rules(rules_of(config), request.image_ref)


def verify_rules(rules: list[Rule], ref: str) -> image_pb2.ImageServiceVerifyResponse:
    context = reference_context(ref)
    matched = match(rules, context)
    if matched is None:
        return image_pb2.ImageServiceVerifyResponse(verified=False, message="no matched rule")
    if matched.rule.deny:
        raise PermissionDenied(f"verification denied by matched rule ({matched.id})")
    if matched.rule.skip:
        return image_pb2.ImageServiceVerifyResponse(
            verified=False, message=f"verification skipped by matched rule ({matched.id})")
    kind = "keyless" if matched.rule.keyless is not None else "public key"
    raise FailedPrecondition(
        f"image {ref} matches rule {matched.id} ({matched.rule.image}), which "
        f"requires a cosign {kind} signature check: this node has no sigstore client, so "
        "the signature cannot be verified")

