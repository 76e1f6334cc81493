// Shapes of profiles' feedback answers its OpenAPI document leaves untyped (`dict[str, Any]`), written from
// services/profiles/sentiment.py (`summarize`) and feedback.py (`feedback_stats`, `negative_terms`).

export interface SentimentShare {
  count: number;
  share: number | null;
}

/** `sentiment.summarize`: one set of feedback items. */
export interface FeedbackSummary {
  items: number;
  answered: number;
  response_rate: number | null;
  mean_response_hours: number | null;
  median_response_hours: number | null;
  answered_within_1h: number | null;
  answered_within_24h: number | null;
  scored: number;
  mean_compound: number | null;
  sentiment: Record<"positive" | "neutral" | "negative", SentimentShare>;
  daily: { day: string; count: number; mean_compound: number | null }[];
}

/** GET /v1/feedback/stats. */
export interface FeedbackStats {
  from: string | null;
  to: string | null;
  by: string;
  total: FeedbackSummary;
  groups: (FeedbackSummary & { key: string | null })[];
}

/** GET /v1/feedback/terms. */
export interface NegativeTerms {
  products: { product_id: string | null; negative_items: number; terms: { term: string; count: number }[] }[];
}
