// Fixed API answers for the campaigns screens' tests (shapes as services/campaigns answers them).
import type { CampaignSummary, Preflight } from "../../client/campaigns/types.gen";
import type { ArmReport, CampaignResults, Lift } from "./shapes";

export function lift(l: number, low: number, high: number, p: number): Lift {
  return { lift: l, ci_low: low, ci_high: high, p_value: p, std_error: 0.01, relative: true, computable: true, reason: "" };
}

function arm(users: number, sent: number, human: number, machine: number, clicks: number, conversions: number, revenue: number): ArmReport {
  return {
    users,
    sent,
    failed: users - sent,
    delivered: sent,
    human_opens: human,
    machine_opens: machine,
    clicks,
    unsubscribes: 1,
    conversions,
    revenue,
    open_rate: sent ? human / sent : null,
    click_rate: sent ? clicks / sent : null,
    conversion_rate: users ? conversions / users : null,
    revenue_per_recipient: users ? revenue / users : null,
  };
}

export const RESULTS: CampaignResults = {
  campaign_id: "c1",
  goal_event: "Order Completed",
  by: "variant",
  attribution: { model: "last_touch", window_days: 7 },
  sequential: false,
  variants: [
    { variant_id: "v1", name: "A", ...arm(1204, 1200, 431, 77, 152, 61, 4321.5) },
    { variant_id: "v2", name: "B", ...arm(1187, 1187, 502, 64, 198, 83, 5012.25) },
  ],
  holdout: arm(263, 0, 0, 0, 0, 7, 300),
  versus_holdout: {
    conversion_rate: { relative: lift(0.4123, 0.1021, 0.7225, 0.0123), absolute: lift(0.0234, 0.0051, 0.0417, 0.0123) },
    revenue_per_user: { relative: lift(0.3, -0.05, 0.65, 0.091), absolute: { ...lift(1.25, -0.2, 2.7, 0.091), relative: false } },
    incremental_conversions: 55.873,
    incremental_revenue: 2345.67,
  },
  between_variants: [
    {
      control: "v1",
      variant_id: "v2",
      conversion_rate: lift(0.3611, 0.01, 0.7122, 0.044),
      chance_to_beat_control: 0.9781,
      risk: { control: 0.0123, variant: 0.0004 },
    },
  ],
  sample_ratio: { computable: true, arms: ["holdout", "v1", "v2"], users: [263, 1204, 1187], expected_shares: [0.1, 0.45, 0.45], p_value: 0.0002, mismatch: true },
  attributed: { model: "last_touch", window_days: 7, conversions: 131.5, revenue: 8765.43 },
};

export const SUMMARIES: CampaignSummary[] = [
  {
    id: "c1",
    name: "Winter sale",
    status: "completed",
    channel: "email",
    audience: 2654,
    sent: 2387,
    human_opens: 933,
    clicks: 350,
    conversions: 144,
    lift: lift(0.4123, 0.1021, 0.7225, 0.0123),
    last_error: null,
    launched_at: "2026-12-01T10:00:00Z",
  },
  {
    id: "c2",
    name: "Draft one",
    status: "draft",
    channel: "webhook",
    audience: null,
    sent: 0,
    human_opens: 0,
    clicks: 0,
    conversions: 0,
    lift: null,
    last_error: "webhook answered 500",
    launched_at: null,
  },
];

export const PREFLIGHT: Preflight = {
  audience: 2654,
  already_exposed: 0,
  skipped: { no_email_consent: 120, bounced: 14, frequency_cap: 31 },
  held_out: 249,
  waiting: 0,
  variants: [
    { variant_id: "v1", name: "A", recipients: 1121 },
    { variant_id: "v2", name: "B", recipients: 1119 },
  ],
  sendable: 2240,
  checked_at: "2026-12-05T12:00:00Z",
};
