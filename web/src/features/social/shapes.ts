// Shapes of the campaigns service's social answers that its OpenAPI document leaves untyped (`dict[str, Any]`),
// written from services/campaigns/social.py (`Totals.report`, `engagement_report`, `segment_engagement`) and
// influencers.py (`influencer_report`, `competitors_report`).
import type { EngagementRead } from "../../client/profiles/types.gen";

/** Summed daily metrics of some posts (`social.COUNTS`). */
export interface PostCounts {
  impressions: number;
  reach: number;
  likes: number;
  comments: number;
  shares: number;
  saves: number;
  clicks: number;
}

/** Counts and rates of some posts (`Totals.report()`). */
export interface SocialTotals extends PostCounts {
  posts: number;
  followers: number;
  engagements: number;
  ctr: number | null;
  engagement_rate_by_reach: number | null;
  engagement_rate_by_impressions: number | null;
  engagement_rate_by_followers: number | null;
  amplification_rate: number | null;
  virality_rate: number | null;
}

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

export interface DailyEngagement extends PostCounts {
  date: string;
  engagements: number;
  ctr: number | null;
  engagement_rate_by_reach: number | null;
  engagement_rate_by_impressions: number | null;
  virality_rate: number | null;
}

export interface TopPost {
  platform: string;
  post_id: string;
  content_type: string;
  campaign: string | null;
  text: string;
  reach: number;
  engagements: number;
  engagement_rate_by_reach: number | null;
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

/** One brand of GET /v1/social/competitors (`influencers._brand_row`). */
export interface BrandRow {
  brand: string;
  is_us: boolean;
  posts_published: number;
  posts_per_week: number | null;
  content_mix: Record<string, number | null>;
  impressions: number;
  reach: number;
  engagements: number;
  engagement_rate_by_reach: number | null;
  engagement_rate_by_impressions: number | null;
  engagement_rate_by_followers: number | null;
  followers: FollowerGrowth;
  mentions: number;
  mentions_by_platform: Record<string, number>;
  share_of_voice: number | null;
}

export interface CompetitorsReport {
  from: string | null;
  to: string | null;
  us: { handles: string[]; from: string };
  brands: BrandRow[];
  mentions: { tracked: number; untracked: number };
}

export interface FollowerGrowth {
  start: number | null;
  end: number | null;
  growth: number | null;
  growth_rate: number | null;
}

/** GET /v1/influencers/{id}/report. */
export interface InfluencerReport {
  influencer_id: string;
  from: string | null;
  to: string | null;
  posts: SocialTotals;
  followers: FollowerGrowth;
  sessions: number;
  signups: number;
  orders: number;
  revenue: number;
  signup_rate: number | null;
  order_rate: number | null;
  attributed_by: { referral_codes: string[]; utm_campaigns: string[] };
}
