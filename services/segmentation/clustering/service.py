"""ML segments: clusterings over the feature replica, their runs, drift between runs and cluster segments.

A run fits `model.fit` off the event loop, matches the new clusters to the previous run's by overlap (so
published cluster segments keep their ids), records the drift, stores each profile's cluster and, once the
clustering is published, the `cluster_segments` score that cluster segments select on."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.clustering import model as ml
from services.segmentation.clustering.drift import drift_report
from services.segmentation.clustering.models import ClusterAssignment, Clustering, ClusteringRun
from services.segmentation.exceptions import AlreadyRunning, ClusteringNotFound
from services.segmentation.replica.models import ProfileFeatures
from services.segmentation.replica.scores import rewrite_scores
from services.segmentation.segments.models import Segment, SegmentMembership
from services.segmentation.segments.rules import CLUSTER_KEY
from services.segmentation.segments.service import create_segment, get_segment
from shared.db import insert_many, new_id, utcnow
from shared.errors import Invalid, field_error

DERIVED = {"days_since_last_order": "last_order_at", "days_since_last_visit": "last_seen_at",
           "tenure_days": "first_seen_at"}  # fmt: skip
SOURCES = ("traits", "computed", "scores")


def check_feature_names(features: Sequence[str]) -> None:
    """422 unless every feature is a derived feature, a computed trait, or `traits.x` / `scores.x`."""
    for i, name in enumerate(features):
        source, _, key = name.partition(".")
        if name in DERIVED or (source in SOURCES and key) or (name and "." not in name):
            continue
        raise Invalid(f"Unknown feature {name!r}.", fields=[field_error(f"features[{i}]", "unknown feature")])


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        return None
    return float(value)


def _value(row: Any, name: str, now: datetime) -> float | None:
    if name in DERIVED:
        at = row.computed.get(DERIVED[name]) or row.computed.get("first_seen_at")  # never ordered: since first seen
        return (now - datetime.fromisoformat(at)).total_seconds() / 86400 if isinstance(at, str) else None
    source, _, key = name.partition(".") if name.split(".", 1)[0] in SOURCES else ("computed", ".", name)
    value: Any = getattr(row, source)
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return _number(value)


def feature_matrix(rows: Sequence[Any], features: Sequence[str], now: datetime) -> tuple[np.ndarray, np.ndarray]:
    """(profile ids, matrix): counters missing from computed traits are 0, other gaps take the column median."""
    ids = np.array([row.profile_id for row in rows], dtype=object)
    matrix = np.array([[_value(row, name, now) for name in features] for row in rows], dtype=float).reshape(
        len(rows), len(features)
    )
    for j, name in enumerate(features):
        missing = np.isnan(matrix[:, j])
        if missing.any():
            counter = "." not in name and name not in DERIVED
            present = matrix[~missing, j]
            matrix[missing, j] = 0.0 if counter or not present.size else float(np.median(present))
    return ids, matrix


async def load_features(session: AsyncSession, clustering: Clustering) -> tuple[np.ndarray, np.ndarray]:
    """The feature matrix of every profile in the replica (the members of `segment_id` if the clustering has one)."""
    query = select(ProfileFeatures)
    if clustering.segment_id:
        members = select(SegmentMembership.profile_id).where(SegmentMembership.segment_id == clustering.segment_id)
        query = query.where(ProfileFeatures.profile_id.in_(members))
    rows = (await session.scalars(query.order_by(ProfileFeatures.profile_id))).all()
    return feature_matrix(rows, clustering.features, utcnow())


async def get_clustering(session: AsyncSession, clustering_id: str) -> Clustering:
    """A clustering by id, or 404."""
    found = await session.get(Clustering, clustering_id)
    if found is None:
        raise ClusteringNotFound(f"Clustering '{clustering_id}' does not exist.")
    return found


async def latest_run(session: AsyncSession, clustering_id: str) -> ClusteringRun | None:
    """The clustering's most recent run, if any."""
    query = select(ClusteringRun).where(ClusteringRun.clustering_id == clustering_id)
    return await session.scalar(query.order_by(ClusteringRun.finished_at.desc()).limit(1))


async def runs(session: AsyncSession, clustering_id: str) -> Sequence[ClusteringRun]:
    """Every run of a clustering, newest first."""
    await get_clustering(session, clustering_id)
    query = select(ClusteringRun).where(ClusteringRun.clustering_id == clustering_id)
    return (await session.scalars(query.order_by(ClusteringRun.finished_at.desc()))).all()


def fit_clusters(clustering: Clustering, matrix: np.ndarray) -> ml.ClusteringResult:
    """Fit the clustering's method on a matrix (CPU-bound: run in a thread); bad settings become 422."""
    try:
        return ml.fit(matrix, clustering.features, method=clustering.method,  # type: ignore[arg-type]
                      k=clustering.k or "auto", min_share=clustering.min_share, seed=0)  # fmt: skip
    except ValueError as exc:
        raise Invalid(f"The clustering cannot be fitted: {exc}", fields=[field_error("k", str(exc))]) from None


async def record_run(
    session: AsyncSession, clustering: Clustering, ids: np.ndarray, result: ml.ClusteringResult, started: datetime
) -> ClusteringRun:
    """Keep a finished fit: match it to the previous run, carry segment ids over, store assignments and drift."""
    previous = await latest_run(session, clustering.id)
    old_ids, old_labels = await _assignments(session, clustering.id)
    clusters = [asdict(c) | {"segment_id": None} for c in result.clusters]
    drift: dict[str, Any] | None = None
    if previous is not None and len(old_ids):
        report = drift_report(old_ids, old_labels, ids, result.labels)
        old_segments = [c.get("segment_id") for c in previous.result["clusters"]]
        for new, old in report.matching.items():
            clusters[new]["segment_id"] = old_segments[old] if old < len(old_segments) else None
        drift = _drift_json(report, previous, clusters)
    await _store_assignments(session, clustering.id, ids, result.labels)
    run = ClusteringRun(clustering_id=clustering.id, started_at=started, finished_at=utcnow(), profiles=len(ids),
                        k=result.k, silhouette=result.silhouette, drift=drift,
                        result={"clusters": clusters, "k_scores": {str(k): v for k, v in result.k_scores.items()},
                                "logged_features": result.logged_features})  # fmt: skip
    session.add(run)
    await session.flush()
    return run


def _drift_json(report: Any, previous: ClusteringRun, clusters: list[dict[str, Any]]) -> dict[str, Any]:
    psi = report.psi
    return {
        "previous_run_id": previous.id, "common_profiles": report.common_profiles,
        "adjusted_rand": round(report.adjusted_rand, 6), "psi": round(psi, 6),
        "psi_label": "stable" if psi < 0.1 else "moderate shift" if psi < 0.25 else "major shift",
        "matching": {str(new): old for new, old in report.matching.items()},
        "new_clusters": report.new_clusters, "retired_clusters": report.retired_clusters,
        "transitions": {"from": [c["suggested_name"] for c in previous.result["clusters"]],
                        "to": [c["suggested_name"] for c in clusters], "counts": report.transitions},
    }  # fmt: skip


async def _assignments(session: AsyncSession, clustering_id: str) -> tuple[np.ndarray, np.ndarray]:
    query = select(ClusterAssignment.profile_id, ClusterAssignment.cluster).where(
        ClusterAssignment.clustering_id == clustering_id
    )
    rows = (await session.execute(query)).all()
    return np.array([r[0] for r in rows], dtype=object), np.array([r[1] for r in rows], dtype=int)


async def _store_assignments(session: AsyncSession, clustering_id: str, ids: np.ndarray, labels: np.ndarray) -> None:
    await session.execute(delete(ClusterAssignment).where(ClusterAssignment.clustering_id == clustering_id))
    rows = [{"clustering_id": clustering_id, "profile_id": str(p), "cluster": int(c)}
            for p, c in zip(ids, labels, strict=True)]  # fmt: skip
    for start in range(0, len(rows), 5000):
        await insert_many(session, ClusterAssignment.__table__, rows[start : start + 5000])


async def publish(session: AsyncSession, clustering: Clustering, run: ClusteringRun) -> list[str]:
    """Give every cluster of the run a segment (new ones for clusters without), write the cluster scores; return
    the ids of the segments whose members must be recomputed."""
    clusters = [dict(c) for c in run.result["clusters"]]
    for cluster in clusters:
        if cluster["segment_id"] is None or await session.get(Segment, cluster["segment_id"]) is None:
            cluster["segment_id"] = await _cluster_segment(session, clustering, cluster)
        else:
            segment = await get_segment(session, cluster["segment_id"])
            segment.description, segment.status = cluster["description"], "building"
    run.result = dict(run.result) | {"clusters": clusters}
    clustering.published = True
    await _write_cluster_scores(session, clustering.id, [c["segment_id"] for c in clusters])
    return [c["segment_id"] for c in clusters]


async def _cluster_segment(session: AsyncSession, clustering: Clustering, cluster: dict[str, Any]) -> str:
    segment_id = new_id()
    definition = {"score": "cluster", "op": "eq", "value": segment_id}
    await create_segment(session, name=f"{clustering.name}: {cluster['suggested_name']}",
                         description=cluster["description"], definition=definition, kind="cluster",
                         segment_id=segment_id)  # fmt: skip
    return segment_id


async def _write_cluster_scores(session: AsyncSession, clustering_id: str, segment_of_cluster: list[str]) -> None:
    ids, labels = await _assignments(session, clustering_id)
    segment_of = {str(p): segment_of_cluster[c] for p, c in zip(ids, labels, strict=True)}

    def change(profile_id: str, scores: dict[str, Any]) -> dict[str, Any]:
        kept = {s: c for s, c in (scores.get(CLUSTER_KEY) or {}).items() if c != clustering_id}
        if profile_id in segment_of:
            kept[segment_of[profile_id]] = clustering_id
        return {k: v for k, v in scores.items() if k != CLUSTER_KEY} | ({CLUSTER_KEY: kept} if kept else {})

    await rewrite_scores(session, change)


async def start_run(session: AsyncSession, clustering_id: str) -> Clustering:
    """Mark a clustering queued for a run; 409 while one is under way."""
    clustering = await get_clustering(session, clustering_id)
    if clustering.status in ("queued", "running") and clustering.updated_at > utcnow() - timedelta(hours=1):
        raise AlreadyRunning("This clustering is already being fitted.")
    clustering.status, clustering.progress, clustering.stage, clustering.last_error = "queued", 0.0, "queued", None
    clustering.updated_at = utcnow()
    return clustering


async def claim_scheduled_run(session: AsyncSession, clustering_id: str, now: datetime) -> bool:
    """Queue a due scheduled run unless another replica already did (one conditional update decides)."""
    claimed = await session.execute(
        update(Clustering)
        .where(Clustering.id == clustering_id, Clustering.next_run_at <= now,
               Clustering.status.not_in(("queued", "running")))
        .values(status="queued", progress=0.0, stage="queued", last_error=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


async def due_clusterings(session: AsyncSession, now: datetime) -> list[str]:
    """Scheduled clusterings whose next run is due."""
    query = select(Clustering.id).where(Clustering.next_run_at.is_not(None), Clustering.next_run_at <= now,
                                        Clustering.status.not_in(("queued", "running")))  # fmt: skip
    return list((await session.scalars(query)).all())


@dataclass(frozen=True)
class Fitted:
    """A clustering fitted on the profiles it was loaded with, not yet recorded."""

    ids: np.ndarray
    result: Any
    started: datetime


async def fit_clustering(session: AsyncSession, clustering: Clustering, progress: Any) -> Fitted:
    """Load the features and fit off the event loop (nothing is written)."""
    started = utcnow()
    await progress(0.1, "loading features")
    ids, matrix = await load_features(session, clustering)
    if len(ids) < 3:
        raise Invalid("Too few profiles to cluster.", fields=[field_error("features", "fewer than 3 profiles")])
    await progress(0.3, f"fitting {clustering.method} on {len(ids)} profiles")
    return Fitted(ids, await asyncio.to_thread(fit_clusters, clustering, matrix), started)


async def record_fit(session: AsyncSession, clustering: Clustering, fitted: Fitted) -> tuple[ClusteringRun, list[str]]:
    """Record the run and its drift, republish its segments if published, schedule the next (the caller commits)."""
    run = await record_run(session, clustering, fitted.ids, fitted.result, fitted.started)
    recompute = await publish(session, clustering, run) if clustering.published else []
    clustering.status, clustering.progress, clustering.stage = "ready", 1.0, "done"
    clustering.updated_at = utcnow()
    every = clustering.rerun_every_hours
    clustering.next_run_at = utcnow() + timedelta(hours=every) if every else None
    return run, recompute


async def create_clustering(session: AsyncSession, *, name: str, features: list[str], method: str,
                            k: int | str, min_share: float, segment_id: str | None,
                            rerun_every_hours: float | None) -> Clustering:  # fmt: skip
    """A new clustering, queued for its first run."""
    check_feature_names(features)
    if segment_id is not None:
        await get_segment(session, segment_id)
    clustering = Clustering(name=name, features=features, method=method, k=None if k == "auto" else int(k),
                            min_share=min_share, segment_id=segment_id, rerun_every_hours=rerun_every_hours,
                            status="queued", progress=0.0, stage="queued", published=False)  # fmt: skip
    session.add(clustering)
    await session.flush()
    return clustering


async def update_clustering(session: AsyncSession, clustering_id: str, changes: dict[str, Any]) -> Clustering:
    """Rename a clustering or change its schedule (the next run moves accordingly)."""
    clustering = await get_clustering(session, clustering_id)
    if changes.get("name") is not None:
        clustering.name = changes["name"]
    if "rerun_every_hours" in changes:
        every = changes["rerun_every_hours"]
        clustering.rerun_every_hours = every
        clustering.next_run_at = utcnow() + timedelta(hours=every) if every else None
    clustering.updated_at = utcnow()
    return clustering


async def list_clusterings(session: AsyncSession) -> Sequence[Clustering]:
    """Every clustering, oldest first."""
    return (await session.scalars(select(Clustering).order_by(Clustering.created_at))).all()


def run_summary(run: ClusteringRun | None) -> dict[str, Any] | None:
    """A run as the API shows it: clusters with sizes, centroids, descriptions, names and segment ids."""
    if run is None:
        return None
    return {"id": run.id, "started_at": run.started_at, "finished_at": run.finished_at, "profiles": run.profiles,
            "k": run.k, "silhouette": round(run.silhouette, 6), **run.result,
            "drift": run.drift}  # fmt: skip


def drift_history(runs_newest_first: Sequence[ClusteringRun]) -> list[dict[str, Any]]:
    """Each run's drift report against the run before it, newest first (the first run has none)."""
    return [{"run_id": r.id, "finished_at": r.finished_at, "profiles": r.profiles, "k": r.k,
             "silhouette": round(r.silhouette, 6), **(r.drift or {})}
            for r in runs_newest_first if r.drift is not None]  # fmt: skip
