"""Segmentation's domain errors, each with its status (rendered in the shared error shape)."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class SegmentNotFound(NotFound):
    """No segment has this id."""


class ClusteringNotFound(NotFound):
    """No clustering has this id."""


class ClvFitNotFound(NotFound):
    """No CLV fit has this id."""


class NoClvModel(NotFound):
    """No CLV model has been fitted yet."""


class FeaturesNotFound(NotFound):
    """The replica holds no features for this profile."""


class ReplicaBehind(Conflict):
    """The replica is behind profiles (or nobody can tell), and the caller did not allow a stale fit."""


class AlreadyRunning(Conflict):
    """A fit of the same model is already queued or running."""
