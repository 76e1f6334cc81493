// The funnel, conversion paths and segment performance show the API's figures as they come; the funnel request is
// built from the steps as written.
import { RouterProvider, createMemoryHistory, createRootRoute, createRoute, createRouter } from "@tanstack/react-router";
import { render, screen, within } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it } from "vitest";

import { meQueryKey } from "../../auth/session";
import type { SegmentPerformance } from "../../client/campaigns/types.gen";
import type { FunnelRead, PathsRead } from "../../client/profiles/types.gen";
import { formatCount, formatCurrency, formatPercent } from "../../lib/format";
import { Providers, me, renderWithProviders, testQueryClient } from "../../test/render";
import { PathsTable } from "./ConversionPaths";
import { FunnelResult, funnelChartData, stepsOf } from "./FunnelBuilder";
import { SegmentPerformanceList } from "./SegmentPerformance";

const FUNNEL: FunnelRead = {
  from: null, to: null, window_hours: 72, segment_id: null, overall_conversion: 0.0412,
  steps: [
    { step: 1, event: null, page: "/", people: 2000, conversion_from_previous: null, conversion_from_first: 1 },
    { step: 2, event: "Product Viewed", page: null, people: 900, conversion_from_previous: 0.45, conversion_from_first: 0.45 },
    { step: 3, event: "Order Completed", page: null, people: 82, conversion_from_previous: 0.091111, conversion_from_first: 0.041 },
  ],
};

describe("funnel", () => {
  it("shows each step's people and conversions as the API gives them", () => {
    renderWithProviders(<FunnelResult funnel={FUNNEL} />);
    expect(screen.getByTestId("funnel-overall")).toHaveTextContent(formatPercent(0.0412, 2));
    const cells = within(screen.getByTestId("funnel-step-3")).getAllByRole("cell").map((c) => c.textContent);
    expect(cells).toEqual([formatCount(82), formatPercent(0.091111, 1), formatPercent(0.041, 1)]);
    expect(funnelChartData(FUNNEL).map((d) => d.People)).toEqual([2000, 900, 82]);
  });

  it("sends the steps as written, and none while one is empty", () => {
    expect(stepsOf([{ kind: "page", value: " /pricing " }, { kind: "event", value: "Signed Up" }])).toEqual([{ page: "/pricing" }, { event: "Signed Up" }]);
    expect(stepsOf([{ kind: "page", value: "/" }, { kind: "event", value: " " }])).toBeNull();
  });
});

describe("conversion paths", () => {
  it("shows each path's people and share as the API gives them", () => {
    const paths: PathsRead = {
      conversion: "Order Completed", from: null, to: null, lookback_days: 30, converting_people: 140, without_touchpoints: 12,
      paths: [{ path: ["email", "organic"], people: 51, share: 0.364286 }],
    };
    renderWithProviders(<PathsTable paths={paths} />);
    expect(within(screen.getByTestId("path-email>organic")).getAllByRole("cell").map((c) => c.textContent)).toEqual([formatCount(51), formatPercent(0.364286, 1)]);
    expect(screen.getByTestId("paths-summary")).toHaveTextContent(`${formatCount(140)} people converted`);
  });
});

const PERFORMANCE: SegmentPerformance[] = [
  {
    segment_id: "s1", name: "Loyal", goal: { metric: "conversion_rate", min: 0.03, max: null }, met: false,
    campaigns: [
      { campaign_id: "c1", name: "Spring", recipients: 1200, value: 0.0425, met: true },
      { campaign_id: "c2", name: "Summer", recipients: 800, value: 0.0213, met: false },
    ],
  },
  { segment_id: "s2", name: "Big spenders", goal: { metric: "revenue_per_recipient", min: 5, max: null }, met: null, campaigns: [] },
];

function renderWithRoutes(ui: ReactNode) {
  const client = testQueryClient();
  client.setQueryData(meQueryKey, me("analyst"));
  const root = createRootRoute({ component: () => ui });
  const children = ["/segments/$segmentId", "/campaigns/$campaignId"].map((path) => createRoute({ getParentRoute: () => root, path }));
  const router = createRouter({ routeTree: root.addChildren(children), history: createMemoryHistory({ initialEntries: ["/"] }) });
  render(
    <Providers client={client}>
      <RouterProvider router={router} />
    </Providers>,
  );
}

describe("segment performance", () => {
  it("shows each campaign's measured rate against the segment's goal as the API gives them", async () => {
    renderWithRoutes(<SegmentPerformanceList rows={PERFORMANCE} />);
    const loyal = await screen.findByTestId("performance-s1");
    expect(loyal).toHaveTextContent(`at least ${formatPercent(0.03, 2)}`);
    expect(loyal).toHaveTextContent("missed");
    const spring = within(screen.getByTestId("performance-s1-c1")).getAllByRole("cell").map((c) => c.textContent);
    expect(spring).toEqual([formatCount(1200), formatPercent(0.0425, 2), "met"]);
    expect(screen.getByTestId("performance-s1-c2")).toHaveTextContent("missed");
    expect(within(loyal).getByRole("link", { name: "Spring" })).toHaveAttribute("href", "/campaigns/c1");
    const big = screen.getByTestId("performance-s2");
    expect(big).toHaveTextContent(`at least ${formatCurrency(5)}`);
    expect(big).toHaveTextContent("not measured");
  });
});
