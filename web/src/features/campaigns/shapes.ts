// Shapes of the campaigns service's results written by hand where they are more precise than the generated client
// (lifts always carry every field; `computable: false` answers as a separate type), from services/campaigns/results.py
// (`campaign_results`, `_versus_holdout`, `_between`, `_srm`, `_attributed`). Typed rows come from the client.

import type { ArmReport, ExportRead, LiftResult, VariantReport } from "../../client/campaigns";

/** One arm's figures (a variant, the holdout, or a segment's treated / holdout share), and a variant's. */
export type { ArmReport, VariantReport };

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

/** One row of GET /v1/campaigns/{id}/exports (typed by the API now). */
export type AudienceExport = ExportRead;

/** `lift` of a campaign summary: the relative lift of the conversion rate against the holdout. */
export type SummaryLift = Lift;

export function isComputable<T extends object>(value: T | NotComputable | null | undefined): value is T {
  return value != null && !("computable" in value && value.computable === false);
}
