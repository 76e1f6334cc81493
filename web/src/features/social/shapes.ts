// Shapes of the campaigns service's social answers: the rows the API types come from the generated client; the
// reports whose groups differ by `by` (post figures, or profiles' rows for segments) and the small fixed objects are
// written from services/campaigns/social/ (`service.engagement_report`, `influencers.influencer_report`, `competitors`).
import type {
  BrandRow,
  DailyEngagement,
  FollowerGrowth,
  InfluencerReport as GeneratedInfluencerReport,
  SocialTotals,
  TopPost,
} from "../../client/campaigns/types.gen";
import type { EngagementRead } from "../../client/profiles/types.gen";

/** Rows the API types now: counts, totals, days, top posts, a brand of the competitor report, follower growth. */
export type { BrandRow, DailyEngagement, FollowerGrowth, SocialTotals, TopPost };

/** Summed daily metrics of some posts (`social.COUNTS`). */
export type PostCounts = Pick<SocialTotals, "impressions" | "reach" | "likes" | "comments" | "shares" | "saves" | "clicks">;

/** A group of `by=post|content_type|platform|campaign`: its key, post details for `by=post`, and its figures. */
export interface EngagementGroup extends SocialTotals {
  key: string | null;
  platform?: string;
  post_id?: string;
  content_type?: string;
  campaign?: string | null;
  published_at?: string;
}

/** A group of `by=segment`: profiles' engagement of a segment's members (typed there), keyed by the segment. */
export interface SegmentEngagement extends EngagementRead {
  key: string | null;
  segment_id?: string;
}

/** GET /v1/social/engagement. */
export interface EngagementReport {
  by: "post" | "content_type" | "platform" | "campaign" | "segment";
  from: string | null;
  to: string | null;
  /** Each figure's definition, e.g. ctr → "clicks / impressions". */
  engagement: Record<string, string>;
  groups: (EngagementGroup | SegmentEngagement)[];
  total: SocialTotals | SegmentEngagement | null;
  daily: DailyEngagement[];
  top_content: TopPost[];
}

export interface CompetitorsReport {
  from: string | null;
  to: string | null;
  us: { handles: string[]; from: string };
  brands: BrandRow[];
  mentions: { tracked: number; untracked: number };
}

/** GET /v1/influencers/{id}/report (the API types `attributed_by` as a map; it always has these two lists). */
export type InfluencerReport = Omit<GeneratedInfluencerReport, "attributed_by"> & {
  attributed_by: { referral_codes: string[]; utm_campaigns: string[] };
};
