// How CLV and P(alive) are spread over customers, and who is worth most. Segmentation has no endpoint for either
// yet, so both are counted with what exists: segment previews over score conditions (one per band), then the scores
// of the few customers at the very top. Proposed instead: GET /v1/clv/distribution and GET /v1/clv/customers.
import { useQueries, useQuery } from "@tanstack/react-query";

import type { ProfileScores } from "../../api/shapes";
import { getProfileScores, previewSegment } from "../../client/segmentation/sdk.gen";
import type { Rule } from "../segments/rules";

export interface Band {
  label: string;
  rule: Rule;
}

/** Bands [edges[i], edges[i+1]) and a last open band, as score conditions. */
export function bands(score: "clv" | "p_alive", edges: number[], label: (low: number, high?: number) => string): Band[] {
  return edges.map((low, i) => {
    const high = edges[i + 1];
    const from = { score, op: "gte" as const, value: low };
    return high === undefined
      ? { label: label(low), rule: { and: [from] } }
      : { label: label(low, high), rule: { and: [from, { score, op: "lt" as const, value: high }] } };
  });
}

async function count(rule: Rule, signal: AbortSignal, sampleSize = 0) {
  const { data } = await previewSegment({
    body: { definition: rule as Record<string, unknown>, sample_size: sampleSize },
    signal,
    throwOnError: true,
  });
  return data;
}

/** Customers per band, counted now. */
export function useBandCounts(key: string, list: Band[], enabled: boolean) {
  const results = useQueries({
    queries: list.map((band) => ({
      queryKey: ["clv-band", key, band.rule],
      queryFn: ({ signal }: { signal: AbortSignal }) => count(band.rule, signal),
      enabled,
      staleTime: 60_000,
    })),
  });
  return {
    isPending: results.some((r) => r.isPending),
    error: results.find((r) => r.isError)?.error ?? null,
    rows: list.map((band, i) => ({ band: band.label, customers: results[i]?.data?.count ?? 0 })),
  };
}

const TOP_THRESHOLDS = [90, 95, 98, 99, 99.5, 99.9];
export const TOP_MAX = 25;

/** The customers with the highest CLV: the widest top percentile with at most TOP_MAX people, sorted by CLV. */
export function useTopCustomers(enabled: boolean) {
  const tiers = useQueries({
    queries: TOP_THRESHOLDS.map((p) => ({
      queryKey: ["clv-top-tier", p],
      queryFn: ({ signal }: { signal: AbortSignal }) => count({ score: "clv_percentile", op: "gte", value: p }, signal, TOP_MAX),
      enabled,
      staleTime: 60_000,
    })),
  });
  const chosen = TOP_THRESHOLDS.map((p, i) => ({ p, data: tiers[i]?.data })).find((t) => t.data && t.data.count <= TOP_MAX && t.data.count > 0);
  const ids = chosen?.data?.sample ?? [];
  const scores = useQuery({
    queryKey: ["clv-top-scores", ids],
    queryFn: async ({ signal }) => {
      const rows = await Promise.all(
        ids.map(async (id): Promise<ProfileScores> => (await getProfileScores({ path: { profile_id: id }, signal, throwOnError: true })).data),
      );
      return rows.sort((a, b) => (b.scores.clv ?? 0) - (a.scores.clv ?? 0));
    },
    enabled: ids.length > 0,
    staleTime: 60_000,
  });
  return {
    isPending: tiers.some((t) => t.isPending) || (ids.length > 0 && scores.isPending),
    error: tiers.find((t) => t.isError)?.error ?? scores.error,
    percentile: chosen?.p ?? null,
    rows: scores.data ?? [],
  };
}
