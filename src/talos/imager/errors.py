"""What an image build raises: a missing tool or input, or an unexpected executable."""

from __future__ import annotations

from talos.machinery.errors import FailedPrecondition


class ImageBuildError(FailedPrecondition):
    """The image cannot be built; the message names what is missing and how to get it."""
