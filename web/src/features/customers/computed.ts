// Computed traits, formatted by what they measure.
import { formatCount, formatCurrency, formatDateTime, formatDuration, formatNumber, formatPercent, formatValue } from "../../lib/format";

const MONEY = new Set(["revenue", "average_order_value"]);
const COUNTS = new Set([
  "orders",
  "event_count",
  "page_views",
  "sessions",
  "bounces",
  "likes",
  "comments",
  "shares",
  "reviews",
  "distinct_order_days",
  "social_interactions",
  "sentiment_count",
]);
/** Bookkeeping kept for other computations; not worth a row of their own. */
const HIDDEN = new Set(["daily_counts", "daily_revenue", "sentiment_sum", "session_seconds"]);

export const COMPUTED_LABELS: Record<string, string> = {
  average_order_value: "Average order value",
  avg_session_seconds: "Average session",
  bounce_rate: "Bounce rate",
  average_sentiment: "Average sentiment (−1 to +1)",
  average_rating: "Average rating",
  satisfaction: "Satisfaction (latest CSAT 1–5 or NPS 0–10 answer)",
  satisfaction_kind: "Satisfaction scale (csat or nps)",
  satisfaction_at: "Last satisfaction answer",
  first_order_at: "First order",
  last_order_at: "Last order",
  distinct_order_days: "Days with an order",
  event_count: "Events",
  page_views: "Page views",
};

export function computedLabel(key: string): string {
  const label = COMPUTED_LABELS[key] ?? key.replaceAll("_", " ");
  return label.charAt(0).toUpperCase() + label.slice(1);
}

export function formatComputed(key: string, value: unknown): string {
  if (typeof value === "number") {
    if (MONEY.has(key)) return formatCurrency(value);
    if (COUNTS.has(key)) return formatCount(value);
    if (key === "bounce_rate") return formatPercent(value);
    if (key.endsWith("_seconds")) return formatDuration(value);
    return formatNumber(value, 3);
  }
  if (typeof value === "string" && key.endsWith("_at")) return formatDateTime(value);
  return formatValue(value);
}

/** The rows worth showing, in a stable order. */
export function computedRows(computed: Record<string, unknown>): [string, unknown][] {
  return Object.entries(computed)
    .filter(([key]) => !HIDDEN.has(key))
    .sort(([a], [b]) => a.localeCompare(b));
}
