// The feedback inbox shows the API's figures as they come: response times, sentiment shares and trend, negative
// terms; items with their sentiment and a link to the customer; marketers respond and close, analysts read.
import { RouterProvider, createMemoryHistory, createRootRoute, createRoute, createRouter } from "@tanstack/react-router";
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { Role } from "../../auth/session";
import { meQueryKey } from "../../auth/session";
import type { FeedbackRead, FeedbackSummary } from "../../client/profiles/types.gen";
import { formatCount, formatNumber, formatPercent } from "../../lib/format";
import { Providers, me, renderWithProviders, testQueryClient } from "../../test/render";
import { FeedbackItem } from "./FeedbackList";
import { NegativeTermsTable, ResponseFigures, SentimentCharts, sentimentData, trendData } from "./FeedbackStatsView";

const SUMMARY: FeedbackSummary = {
  items: 214, answered: 150, response_rate: 0.700935, mean_response_hours: 5.4321, median_response_hours: 2.25,
  answered_within_1h: 0.233645, answered_within_24h: 0.658879, scored: 200, mean_compound: 0.1234,
  sentiment: { positive: { count: 110, share: 0.55 }, neutral: { count: 50, share: 0.25 }, negative: { count: 40, share: 0.2 } },
  daily: [{ day: "2026-12-01", count: 12, mean_compound: 0.2 }, { day: "2026-12-02", count: 9, mean_compound: -0.1 }],
};

const ITEM: FeedbackRead = {
  id: "f1", message_id: "m1", profile_id: "p-42", event: "Review Submitted", text: "The zipper broke after a week.",
  platform: "trustpilot", product_id: "jacket-1", post_id: null, rating: 2, compound: -0.4767, label: "negative",
  status: "open", received_at: "2026-12-04T10:00:00Z", responded_at: null,
};

describe("feedback report", () => {
  it("shows the response-time figures as the API gives them", () => {
    renderWithProviders(<ResponseFigures summary={SUMMARY} />);
    expect(screen.getByRole("region", { name: "Feedback items" })).toHaveTextContent(formatCount(214));
    expect(screen.getByRole("region", { name: "Mean response time" })).toHaveTextContent(`${formatNumber(5.4321, 1)} h`);
    expect(screen.getByRole("region", { name: "Median response time" })).toHaveTextContent(`${formatNumber(2.25, 1)} h`);
    expect(screen.getByRole("region", { name: "Answered within 1 h" })).toHaveTextContent(formatPercent(0.233645));
    expect(screen.getByRole("region", { name: "Answered within 24 h" })).toHaveTextContent(formatPercent(0.658879));
  });

  it("charts the API's sentiment counts and daily trend", () => {
    renderWithProviders(<SentimentCharts summary={SUMMARY} />);
    expect(screen.getByTestId("share-negative")).toHaveTextContent(formatPercent(0.2));
    expect(sentimentData(SUMMARY).map((d) => d.Items)).toEqual([110, 50, 40]);
    expect(trendData(SUMMARY).map((d) => [d.Items, d["Mean sentiment"]])).toEqual([[12, 0.2], [9, -0.1]]);
  });

  it("lists negative terms per product", () => {
    renderWithProviders(<NegativeTermsTable terms={{ products: [{ product_id: "jacket-1", negative_items: 14, terms: [{ term: "zipper", count: 9 }] }] }} />);
    const row = screen.getByTestId("terms-jacket-1");
    expect(row).toHaveTextContent("zipper · 9");
    expect(within(row).getAllByRole("cell")[0]).toHaveTextContent("14");
  });
});

function renderItem(role: Role) {
  const client = testQueryClient();
  client.setQueryData(meQueryKey, me(role));
  const root = createRootRoute({ component: () => <FeedbackItem item={ITEM} /> });
  const customer = createRoute({ getParentRoute: () => root, path: "/customers/$profileId" });
  const router = createRouter({ routeTree: root.addChildren([customer]), history: createMemoryHistory({ initialEntries: ["/"] }) });
  render(
    <Providers client={client}>
      <RouterProvider router={router} />
    </Providers>,
  );
}

describe("feedback items", () => {
  it("shows the sentiment, the text and the customer, and lets marketers respond and close", async () => {
    renderItem("marketer");
    const item = await screen.findByRole("article", { name: "Feedback f1" });
    expect(item).toHaveTextContent(`negative ${formatNumber(-0.4767, 2)}`);
    expect(item).toHaveTextContent("The zipper broke after a week.");
    expect(within(item).getByRole("link", { name: "customer p-42" })).toHaveAttribute("href", "/customers/p-42");
    expect(within(item).getByRole("button", { name: "Mark responded: feedback f1" })).toBeEnabled();
    expect(within(item).getByRole("button", { name: "Close feedback f1" })).toBeEnabled();
  });

  it("gives analysts no respond or close", async () => {
    renderItem("analyst");
    const item = await screen.findByRole("article", { name: "Feedback f1" });
    expect(within(item).queryByRole("button")).not.toBeInTheDocument();
  });
});
