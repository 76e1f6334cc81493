// The rule format of segmentation (README "Segments (real time)"): a JSON tree of and / or / not over leaves.

export type Scalar = string | number | boolean;

export const FIELD_OPS = [
  "eq",
  "neq",
  "in",
  "not_in",
  "gt",
  "gte",
  "lt",
  "lte",
  "between",
  "contains",
  "starts_with",
  "exists",
  "not_exists",
] as const;
export type FieldOp = (typeof FIELD_OPS)[number];

export const CLUSTER_OPS: readonly FieldOp[] = ["eq", "neq", "in", "not_in", "exists", "not_exists"];

export const OP_LABELS: Record<FieldOp, string> = {
  eq: "equals",
  neq: "does not equal",
  in: "is one of",
  not_in: "is not one of",
  gt: "is greater than",
  gte: "is at least",
  lt: "is less than",
  lte: "is at most",
  between: "is between",
  contains: "contains",
  starts_with: "starts with",
  exists: "is set",
  not_exists: "is not set",
};

export const BOUNDS = ["at_least", "at_most", "exactly"] as const;
export type Bound = (typeof BOUNDS)[number];
export const BOUND_LABELS: Record<Bound, string> = { at_least: "at least", at_most: "at most", exactly: "exactly" };

export const MAX_DAYS = 90;

export const SCORES = [
  "rfm_segment",
  "rfm_r",
  "rfm_f",
  "rfm_m",
  "clv",
  "clv_percentile",
  "p_alive",
  "expected_purchases",
  "cluster",
] as const;
export type ScoreName = (typeof SCORES)[number];

export const SCORE_LABELS: Record<ScoreName, string> = {
  rfm_segment: "RFM segment",
  rfm_r: "RFM recency score (1–5)",
  rfm_f: "RFM frequency score (1–5)",
  rfm_m: "RFM monetary score (1–5)",
  clv: "Predicted lifetime value",
  clv_percentile: "CLV percentile (0–100)",
  p_alive: "Probability still active (0–1)",
  expected_purchases: "Expected purchases",
  cluster: "Cluster",
};

/** Scores compared as text; the others are numbers. */
export const TEXT_SCORES: readonly ScoreName[] = ["rfm_segment", "cluster"];

export type FieldValue = Scalar | Scalar[];

export interface TraitRule {
  trait: string;
  op: FieldOp;
  value?: FieldValue;
}
export interface ComputedRule {
  computed: string;
  op: FieldOp;
  value?: FieldValue;
}
export interface ScoreRule {
  score: ScoreName;
  op: FieldOp;
  value?: FieldValue;
}
export type EventRule = { event: string; within_days: number } & Partial<Record<Bound, number>>;
export interface SegmentRule {
  segment: string;
}
export interface AndRule {
  and: Rule[];
}
export interface OrRule {
  or: Rule[];
}
export interface NotRule {
  not: Rule;
}
export type LeafRule = TraitRule | ComputedRule | ScoreRule | EventRule | SegmentRule;
export type Rule = AndRule | OrRule | NotRule | LeafRule;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Events the platform understands (DESIGN §2), offered before the event-name endpoint answers. */
export const KNOWN_EVENTS = [
  "page",
  "Product Viewed",
  "Product Added",
  "Checkout Started",
  "Order Completed",
  "Signed Up",
  "Email Delivered",
  "Email Opened",
  "Email Link Clicked",
  "Unsubscribed",
  "Post Viewed",
  "Post Liked",
  "Post Shared",
  "Comment Posted",
  "Brand Mentioned",
  "Ad Clicked",
  "Contest Entered",
  "Content Submitted",
  "Review Submitted",
  "Survey Responded",
  "Feedback Submitted",
];

/** Computed traits profiles keeps (README "Profiles"), offered before the trait-key endpoint answers. */
export const KNOWN_COMPUTED = [
  "orders",
  "revenue",
  "average_order_value",
  "distinct_order_days",
  "first_order_at",
  "last_order_at",
  "event_count",
  "page_views",
  "sessions",
  "avg_session_seconds",
  "bounce_rate",
  "likes",
  "comments",
  "shares",
  "social_interactions",
  "reviews",
  "average_rating",
  "average_sentiment",
  "satisfaction",
  "satisfaction_kind",
  "points",
  "last_utm.source",
  "last_utm.medium",
  "last_utm.campaign",
];
