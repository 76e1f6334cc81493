// Answers of the retention endpoints as the services give them, for the screens' tests.
import type { RetentionUplift } from "../../client/campaigns/types.gen";
import type { RetentionRead, SegmentRead } from "../../client/segmentation/types.gen";

const FRESHNESS = { as_of: "2026-12-05T10:00:00Z", lag: 0, replica_lag: 0, upstream_pending: 0, checked_at: "2026-12-05T10:00:05Z" };

export const UPLIFT: RetentionUplift = {
  campaign_id: "c1",
  order_event: "Order Completed",
  as_of: "2026-12-05T10:00:00Z",
  sent_from: "2026-09-20T09:00:00Z",
  sent_to: "2026-09-20T09:05:00Z",
  windows: [
    {
      days: 30, elapsed: true, complete_at: "2026-10-20T09:05:00Z", members: 1200, measured: 1200,
      targeted: { users: 1080, active: 260, rate: 0.240741 }, holdout: { users: 120, active: 19, rate: 0.158333 },
      difference: { lift: 0.082407, ci_low: 0.010375, ci_high: 0.154439, p_value: 0.025123, std_error: 0.036654, relative: false, computable: true, reason: "" },
      reason: null,
    },
    {
      days: 60, elapsed: true, complete_at: "2026-11-19T09:05:00Z", members: 1200, measured: 1200,
      targeted: { users: 1080, active: 402, rate: 0.372222 }, holdout: { users: 120, active: 38, rate: 0.316667 },
      difference: { lift: 0.055556, ci_low: -0.033174, ci_high: 0.144285, p_value: 0.217214, std_error: 0.045131, relative: false, computable: true, reason: "" },
      reason: null,
    },
    {
      days: 90, elapsed: false, complete_at: "2026-12-19T09:05:00Z", members: 1200, measured: 0,
      targeted: { users: 0, active: 0, rate: null }, holdout: { users: 0, active: 0, rate: null },
      difference: null, reason: "90 days have not yet passed since the sends of both targeted and held-out members",
    },
  ],
}; // prettier-ignore

export const RETENTION: RetentionRead = {
  segment_id: null,
  as_of: "2026-12-05",
  customers: 930,
  repeat_purchase_rate: 0.412903,
  cohorts: [
    { month: "2026-09", customers: 400, retained: [1, 0.3125, 0.2475, 0.19] },
    { month: "2026-10", customers: 310, retained: [1, 0.283871, 0.216129] },
    { month: "2026-11", customers: 150, retained: [1, 0.26] },
    { month: "2026-12", customers: 70, retained: [1] },
  ],
  churn: { threshold: 0.3, scored: 880, churned: 211, share: 0.239773 },
  freshness: FRESHNESS,
};

function segment(id: string, name: string): SegmentRead {
  return { id, name, description: "", definition: {}, kind: "rules", goal: null, status: "ready", size: 100, last_computed_at: "2026-12-05T09:00:00Z",
           last_error: null, created_at: "2026-11-01T00:00:00Z", updated_at: "2026-12-05T09:00:00Z" }; // prettier-ignore
}

export const SEGMENTS: SegmentRead[] = [segment("s-vip", "VIP"), segment("s-new", "New customers")];

export const SEGMENT_RETENTION: Record<string, RetentionRead> = {
  "s-vip": { ...RETENTION, segment_id: "s-vip", customers: 120, repeat_purchase_rate: 0.75, churn: { threshold: 0.3, scored: 118, churned: 9, share: 0.076271 } },
  "s-new": { ...RETENTION, segment_id: "s-new", customers: 300, repeat_purchase_rate: 0.1, churn: { threshold: 0.3, scored: 290, churned: 120, share: 0.413793 } },
};
