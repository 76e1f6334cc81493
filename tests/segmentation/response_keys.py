"""The keys each once-untyped answer had before it got a response model: a response model must keep every one."""

FRESHNESS = {"as_of", "lag", "replica_lag", "upstream_pending", "checked_at"}
SEGMENT_REPORT = {
    "segment_id", "name", "size", "status", "last_computed_at", "revenue", "revenue_per_customer", "orders",
    "average_order_value", "customers_with_orders", "conversion_rate", "average_clv", "clv_scored_members",
    "average_sentiment", "email_consent_share", "engagement", "freshness",
}  # fmt: skip
ENGAGEMENT = {"scored_members", "mean", "median", "p25", "p75", "p90", "max", "bins", "as_of"}
BIN = {"low", "high", "count"}
RFM_SUMMARY = {"as_of", "customers", "segments", "cells"}
RFM_SEGMENT = {"segment", "customers", "share", "mean_recency_days", "mean_frequency", "mean_monetary"}
RFM_CELL_COUNT = {"r", "fm", "customers"}
RFM_MAP_CELL = {"r", "fm", "name"}
PROFILE_SCORES = {"profile_id", "scores"}
DRIFT_HISTORY = {"clustering_id", "runs", "reports"}
DRIFT_REPORT = {
    "run_id", "finished_at", "profiles", "k", "silhouette", "previous_run_id", "common_profiles", "adjusted_rand",
    "psi", "psi_label", "matching", "new_clusters", "retired_clusters", "transitions",
}  # fmt: skip
TRANSITIONS = {"from", "to", "counts"}
