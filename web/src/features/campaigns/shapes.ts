// Shapes of the campaigns service's answers that its OpenAPI document leaves untyped (`dict[str, Any]`), written
// from services/campaigns/results.py and api.py (`campaign_results`, `_versus_holdout`, `_between`, `_srm`,
// `_attributed`, exposures and exports).

import type { LiftResult } from "../../client/campaigns";

/** One arm's figures (a variant, the holdout, or a segment's treated / holdout share): `Arm.report()`. */
export interface ArmReport {
  users: number;
  sent: number;
  failed: number;
  delivered: number;
  human_opens: number;
  machine_opens: number;
  clicks: number;
  unsubscribes: number;
  conversions: number;
  revenue: number;
  open_rate: number | null;
  click_rate: number | null;
  conversion_rate: number | null;
  revenue_per_recipient: number | null;
}

export interface VariantReport extends ArmReport {
  variant_id: string;
  name: string;
}

/** A frequentist lift (stats.LiftResult; its defaults make two fields optional in the document, always sent). */
export type Lift = Required<LiftResult>;

export interface NotComputable {
  computable: false;
  reason: string;
}

export interface VersusHoldout {
  conversion_rate: { relative: Lift; absolute: Lift };
  revenue_per_user: { relative: Lift; absolute: Lift };
  incremental_conversions: number;
  incremental_revenue: number;
}

export interface BetweenVariants {
  control: string;
  variant_id: string;
  conversion_rate: Lift;
  chance_to_beat_control: number;
  risk: { control: number; variant: number };
}

export interface SampleRatio {
  computable: true;
  arms: string[];
  users: number[];
  expected_shares: number[];
  p_value: number;
  mismatch: boolean;
}

export interface Attributed {
  model: string;
  window_days: number;
  conversions: number;
  revenue: number;
}

/** GET /v1/campaigns/{id}/results (by=variant). */
export interface CampaignResults {
  campaign_id: string;
  goal_event: string;
  by: "variant";
  attribution: { model?: string; window_days?: number };
  sequential: boolean;
  variants: VariantReport[];
  holdout: ArmReport | null;
  versus_holdout: VersusHoldout | NotComputable | null;
  between_variants: BetweenVariants[];
  sample_ratio: SampleRatio | NotComputable;
  attributed: Attributed;
}

export interface SegmentResult {
  segment_id: string;
  treated: ArmReport;
  holdout: ArmReport;
  conversion_rate?: { relative: Lift; absolute: Lift };
  computable?: false;
  reason?: string;
}

/** GET /v1/campaigns/{id}/results?by=segment. */
export interface SegmentResults {
  campaign_id: string;
  by: "segment";
  segments: SegmentResult[];
}

export interface Exposure {
  profile_id: string;
  outcome: string;
  variant_id: string | null;
  reason: string | null;
  segment_id: string | null;
  at: string;
}

/** GET /v1/campaigns/{id}/exposures. */
export interface ExposurePage {
  items: Exposure[];
  next_cursor: number | null;
}

/** One row of GET /v1/campaigns/{id}/exports. */
export interface AudienceExport {
  id: string;
  created_at: string;
  rows: number;
  added: number;
  removed: number;
  pushed: boolean | null;
  push_error: string | null;
}

/** `lift` of a campaign summary: the relative lift of the conversion rate against the holdout. */
export type SummaryLift = Lift;

export function isComputable<T extends object>(value: T | NotComputable | null | undefined): value is T {
  return value != null && !("computable" in value && value.computable === false);
}
