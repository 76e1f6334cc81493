// The engagement score on screen is the API's: on the customer page (profiles' read-time score) and in a segment's
// report (segmentation's distribution decayed to the report's time).
import { RouterProvider, createMemoryHistory, createRouter } from "@tanstack/react-router";
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { EngagementDistribution } from "../../api/shapes";
import { meQueryKey } from "../../auth/session";
import { getProfileQueryKey } from "../../client/profiles/@tanstack/react-query.gen";
import type { ProfileRead } from "../../client/profiles/types.gen";
import { formatCount, formatNumber } from "../../lib/format";
import { routeTree } from "../../routeTree.gen";
import { Providers, me, renderWithProviders, testQueryClient } from "../../test/render";
import { SegmentEngagement, binLabel } from "../segments/SegmentEngagement";

const PROFILE: ProfileRead = {
  id: "p1",
  traits: { first_name: "Ada" },
  computed: { orders: 3, engagement_score: 27.418734 },
  consent: {},
  first_seen_at: "2026-10-01T00:00:00Z",
  last_seen_at: "2026-12-04T00:00:00Z",
  identities: [{ kind: "user_id", value: "u1" }],
};

const DISTRIBUTION: EngagementDistribution = {
  scored_members: 240,
  mean: 18.73125,
  median: 12.5,
  p25: 4.25,
  p75: 24.9,
  p90: 41.2,
  max: 120.4,
  as_of: "2026-12-05T10:00:00Z",
  bins: [
    { low: 0, high: 20, count: 150 },
    { low: 20, high: 40, count: 65 },
    { low: 40, high: 60, count: 25 },
  ],
};

describe("engagement on the customer page", () => {
  it("shows the profile's engagement score as the API read it", async () => {
    const client = testQueryClient();
    client.setQueryData(meQueryKey, me("analyst"));
    client.setQueryData(getProfileQueryKey({ path: { profile_id: "p1" } }), PROFILE);
    const router = createRouter({ routeTree, context: { queryClient: client }, history: createMemoryHistory({ initialEntries: ["/customers/p1"] }) });
    render(
      <Providers client={client}>
        <RouterProvider router={router} />
      </Providers>,
    );
    const card = await screen.findByRole("region", { name: "Engagement score" }, { timeout: 10_000 });
    expect(within(card).getByTestId("engagement-score")).toHaveTextContent(formatNumber(27.418734, 1));
    expect(within(card).getByText(/updated/)).toBeInTheDocument();
  }, 20_000);

  it("says when no member of a segment has a score", () => {
    renderWithProviders(<SegmentEngagement engagement={{ ...DISTRIBUTION, scored_members: 0, bins: [] }} />);
    expect(screen.getByText(/no member has scored activity yet/)).toBeInTheDocument();
  });
});

describe("engagement in a segment's report", () => {
  it("shows the mean, spread and histogram as the report gives them", () => {
    renderWithProviders(<SegmentEngagement engagement={DISTRIBUTION} />);
    expect(screen.getByRole("region", { name: "Mean engagement" })).toHaveTextContent(formatNumber(DISTRIBUTION.mean, 1));
    expect(screen.getByRole("region", { name: "Mean engagement" })).toHaveTextContent(`${formatCount(240)} members scored`);
    expect(screen.getByRole("region", { name: "Median engagement" })).toHaveTextContent(formatNumber(DISTRIBUTION.median, 1));
    expect(screen.getByRole("region", { name: "90th percentile" })).toHaveTextContent(formatNumber(DISTRIBUTION.p90, 1));
    const table = screen.getByRole("table", { name: "Members by engagement score" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.textContent)).toEqual(
      DISTRIBUTION.bins.map((b, i) => `${binLabel(b, i === DISTRIBUTION.bins.length - 1)}${formatCount(b.count)}`),
    );
    expect(screen.getByText(/scores decayed to/)).toBeInTheDocument();
  });
});
