// Shapes of answers that the services' OpenAPI documents leave untyped (`dict[str, Any]`), written from the code that
// builds them and checked against real answers (`tessera demo`). Segmentation's answers now have response models:
// their names here are the generated types', kept so the screens that import them need not change.
import type {
  DriftHistoryRead,
  EngagementRead,
  RfmCell,
  RfmCellCount as GeneratedRfmCellCount,
  RfmMapRead,
  RfmSegmentRead,
  RfmSummaryRead,
  SegmentReportRead,
} from "../client/segmentation/types.gen";

/** GET /v1/segments/{id}/report. */
export type SegmentReport = SegmentReportRead;

/** How the engagement score spreads over a segment's scored members, as of `as_of`. */
export type EngagementDistribution = EngagementRead;

/** One row of GET /v1/rfm/summary's `segments`. */
export type RfmSegmentSummary = RfmSegmentRead;

/** Customers in one (R, FM) cell. */
export type RfmCellCount = GeneratedRfmCellCount;

/** GET /v1/rfm/summary and POST /v1/rfm/score. */
export type RfmSummary = RfmSummaryRead;

export type RfmMapCell = RfmCell;

/** GET|PUT /v1/rfm/segment-map. */
export type RfmMap = RfmMapRead;

/** One cluster of a clustering run (segmentation `clustering/model.py`). */
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

/** Drift of a run against the one before (segmentation `clustering/service.py` `_drift_json`). */
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

/** ClusteringRead.latest_run (segmentation `clustering/service.py` `run_summary`). */
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
export type DriftHistory = DriftHistoryRead;

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
