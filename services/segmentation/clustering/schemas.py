"""Request and response models of clusterings (ML segments) and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ClusteringCreate(BaseModel):
    """An ML segmentation: features (computed traits such as `orders`, `traits.age`, `scores.clv`, or the derived
    `days_since_last_order`, `days_since_last_visit`, `tenure_days`), `kmeans` or `gmm`, and k or "auto"."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=150)
    features: list[str] = Field(min_length=1, max_length=30)
    method: Literal["kmeans", "gmm"] = "kmeans"
    k: int | Literal["auto"] = "auto"
    min_share: float = Field(default=0.02, ge=0, le=0.5)
    segment_id: str | None = Field(default=None, description="cluster only the members of this segment")
    rerun_every_hours: float | None = Field(default=None, gt=0, le=24 * 366)

    @model_validator(mode="after")
    def _k_in_range(self) -> ClusteringCreate:
        if self.k != "auto" and not 2 <= self.k <= 50:
            raise ValueError("k must be 'auto' or a whole number from 2 to 50")
        if len(set(self.features)) != len(self.features):
            raise ValueError("features must not repeat")
        return self


class ClusteringUpdate(BaseModel):
    """Rename a clustering or change its schedule."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=150)
    rerun_every_hours: float | None = Field(default=None, gt=0, le=24 * 366)


class ClusteringRead(BaseModel):
    """A clustering, its job status (`queued`, `running`, `ready`, `error`) and its latest result."""

    id: str
    name: str
    features: list[str]
    method: str
    k: int | Literal["auto"]
    min_share: float
    segment_id: str | None
    status: str
    progress: float
    stage: str
    last_error: str | None
    published: bool
    rerun_every_hours: float | None
    next_run_at: datetime | None
    created_at: datetime
    latest_run: dict[str, Any] | None


class TransitionsRead(BaseModel):
    """How the profiles common to two runs moved: `counts[i][j]` went from old cluster `from[i]` to new `to[j]`."""

    model_config = ConfigDict(populate_by_name=True)

    from_: list[str] = Field(alias="from")
    to: list[str]
    counts: list[list[int]]


class DriftReportRead(BaseModel):
    """A run's drift against the run before it: adjusted Rand index, PSI of cluster sizes, matching, transitions."""

    model_config = ConfigDict(extra="allow")  # kept as each run stored it

    run_id: str
    finished_at: datetime
    profiles: int
    k: int
    silhouette: float
    previous_run_id: str
    common_profiles: int
    adjusted_rand: float
    psi: float
    psi_label: str = Field(description="stable, moderate shift or major shift")
    matching: dict[str, int] = Field(description="new cluster → the old cluster it continues")
    new_clusters: list[int]
    retired_clusters: list[int]
    transitions: TransitionsRead


class DriftHistoryRead(BaseModel):
    """Every run's drift report against the run before it, newest first (the first run has none)."""

    clustering_id: str
    runs: int
    reports: list[DriftReportRead]
