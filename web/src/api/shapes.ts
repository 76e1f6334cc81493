// Shapes of answers that the services' OpenAPI documents leave untyped (`dict[str, Any]`), written from the code that
// builds them and checked against real answers (`tessera demo`). Segmentation could give these a response_model;
// the generated client would then type them and this file would shrink.

/** GET /v1/segments/{id}/report (segmentation `reports.segment_report`). */
export interface SegmentReport {
  segment_id: string;
  name: string;
  size: number;
  status: string;
  last_computed_at: string | null;
  revenue: number;
  revenue_per_customer: number | null;
  orders: number;
  average_order_value: number | null;
  customers_with_orders: number;
  conversion_rate: number | null;
  average_clv: number | null;
  clv_scored_members: number;
  average_sentiment: number | null;
  email_consent_share: number | null;
  /** Members' engagement scores decayed to the report's time (segmentation `engagement.distribution`). */
  engagement?: EngagementDistribution;
}

/** How the engagement score spreads over a segment's scored members, as of `as_of`. */
export interface EngagementDistribution {
  scored_members: number;
  mean: number | null;
  median: number | null;
  p25: number | null;
  p75: number | null;
  p90: number | null;
  max: number | null;
  as_of: string;
  /** 0 to the 99th percentile in equal bins, scores above it in the last. */
  bins: { low: number; high: number; count: number }[];
}

/** One row of GET /v1/rfm/summary's `segments`. */
export interface RfmSegmentSummary {
  segment: string;
  customers: number;
  share: number;
  mean_recency_days: number;
  mean_frequency: number;
  mean_monetary: number;
}

/** Customers in one (R, FM) cell: not in the summary yet (see the report of issue 14); shown when present. */
export interface RfmCellCount {
  r: number;
  fm: number;
  customers: number;
}

/** GET /v1/rfm/summary and POST /v1/rfm/score. */
export interface RfmSummary {
  as_of: string;
  customers: number;
  segments: RfmSegmentSummary[];
  cells?: RfmCellCount[];
}

export interface RfmMapCell {
  r: number;
  fm: number;
  name: string;
}

/** GET|PUT /v1/rfm/segment-map. */
export interface RfmMap {
  cells: RfmMapCell[];
}

/** One cluster of a clustering run (segmentation `clustering.py`). */
export interface Cluster {
  index: number;
  size: number;
  share: number;
  centroid: Record<string, number>;
  z_scores: Record<string, number>;
  description: string;
  suggested_name: string;
  segment_id: string | null;
}

/** Drift of a run against the one before (segmentation `clusterings._drift_json`). */
export interface DriftReport {
  previous_run_id: string;
  common_profiles: number;
  adjusted_rand: number;
  psi: number;
  /** "stable", "moderate shift" or "major shift". */
  psi_label: string;
  matching: Record<string, number>;
  new_clusters: number[];
  retired_clusters: number[];
  transitions: { from: string[]; to: string[]; counts: number[][] };
}

/** ClusteringRead.latest_run (segmentation `clusterings.run_summary`). */
export interface ClusteringRun {
  id: string;
  started_at: string;
  finished_at: string | null;
  profiles: number;
  k: number;
  silhouette: number;
  clusters: Cluster[];
  k_scores?: Record<string, number | null>;
  logged_features?: string[];
  drift: DriftReport | null;
}

/** GET /v1/clusterings/{id}/drift: newest first. */
export interface DriftHistory {
  clustering_id: string;
  runs: number;
  reports: (DriftReport & { run_id: string; finished_at: string; profiles: number; k: number; silhouette: number })[];
}

/** GET /v1/profiles/{id}/scores. */
export interface ProfileScores {
  profile_id: string;
  scores: {
    rfm_segment?: string;
    rfm_r?: number;
    rfm_f?: number;
    rfm_m?: number;
    clv?: number;
    clv_percentile?: number;
    p_alive?: number;
    expected_purchases?: number;
    cluster_segments?: Record<string, string>;
    [key: string]: unknown;
  };
}
