// The retention screens show the API's figures: the campaign's retention uplift per window (with whether it has
// elapsed), and the Retention page's cohorts, curves and churn by segment; analysts may read them all.
import { RouterProvider, createMemoryHistory, createRouter } from "@tanstack/react-router";
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { meQueryKey } from "../../auth/session";
import { getRetentionUpliftQueryKey } from "../../client/campaigns/@tanstack/react-query.gen";
import { getRetentionQueryKey, listSegmentsQueryKey } from "../../client/segmentation/@tanstack/react-query.gen";
import { formatCount, formatDate, formatInterval, formatNumber, formatPercent, formatSignedPercent } from "../../lib/format";
import { routeTree } from "../../routeTree.gen";
import { Providers, me, renderWithProviders, testQueryClient } from "../../test/render";
import { curveRows } from "./Cohorts";
import { RETENTION, SEGMENTS, SEGMENT_RETENTION, UPLIFT } from "./fixtures";
import { RetentionUpliftPanel } from "./RetentionUplift";

const points = (v: number) => formatSignedPercent(v, 1);

describe("retention uplift on a campaign's results", () => {
  it("shows each window's shares, difference, interval and p-value as the API gives them", async () => {
    const client = testQueryClient();
    client.setQueryData(getRetentionUpliftQueryKey({ path: { campaign_id: "c1" } }), UPLIFT);
    renderWithProviders(<RetentionUpliftPanel campaignId="c1" />, { role: "analyst", client });
    const table = await screen.findByRole("table", { name: "Retention uplift" });
    for (const w of UPLIFT.windows.filter((x) => x.difference)) {
      const row = within(table).getByTestId(`retention-${w.days}`);
      const d = w.difference;
      if (!d) throw new Error("fixture");
      expect(row).toHaveTextContent(formatPercent(w.targeted.rate));
      expect(row).toHaveTextContent(`${formatCount(w.targeted.active)} of ${formatCount(w.targeted.users)}`);
      expect(row).toHaveTextContent(formatPercent(w.holdout.rate));
      expect(row).toHaveTextContent(points(d.lift));
      expect(row).toHaveTextContent(formatInterval(d.ci_low, d.ci_high, points));
      expect(row).toHaveTextContent(formatNumber(d.p_value, 3));
      expect(row).toHaveTextContent("elapsed");
    }
    const pending = within(table).getByTestId("retention-90");
    expect(pending).toHaveTextContent(`not yet: complete ${formatDate(UPLIFT.windows[2]?.complete_at)}`);
    expect(pending).toHaveTextContent("90 days have not yet passed");
    expect(pending).not.toHaveTextContent("%");
    const chart = screen.getByRole("img", { name: "Retention uplift with 95% intervals" });
    const drawn = within(chart).getAllByTestId("lift-row");
    const measured = UPLIFT.windows.filter((w) => w.difference);
    expect(drawn).toHaveLength(measured.length);
    measured.forEach((w, i) => {
      const d = w.difference;
      if (!d) throw new Error("fixture");
      expect(drawn[i]).toHaveTextContent(`${w.days} days`);
      expect(drawn[i]).toHaveTextContent(`${points(d.lift)} (${formatInterval(d.ci_low, d.ci_high, points)}) p = ${formatNumber(d.p_value, 3)}`);
    });
  });

  it("says so when nobody was sent to yet", async () => {
    const client = testQueryClient();
    const empty = { ...UPLIFT, windows: UPLIFT.windows.map((w) => ({ ...w, members: 0, measured: 0, difference: null })) };
    client.setQueryData(getRetentionUpliftQueryKey({ path: { campaign_id: "c1" } }), empty);
    renderWithProviders(<RetentionUpliftPanel campaignId="c1" />, { role: "analyst", client });
    expect(await screen.findByText("Nobody sent to or held out yet")).toBeInTheDocument();
  });
});

function renderRetentionPage() {
  const client = testQueryClient();
  client.setQueryData(meQueryKey, me("analyst"));
  client.setQueryData(listSegmentsQueryKey(), SEGMENTS);
  client.setQueryData(getRetentionQueryKey({ query: { segment_id: undefined, churn_threshold: 0.3 } }), RETENTION);
  for (const [id, answer] of Object.entries(SEGMENT_RETENTION)) {
    client.setQueryData(getRetentionQueryKey({ query: { segment_id: id, churn_threshold: 0.3 } }), answer);
  }
  const router = createRouter({ routeTree, context: { queryClient: client }, history: createMemoryHistory({ initialEntries: ["/retention"] }) });
  render(
    <Providers client={client}>
      <RouterProvider router={router} />
    </Providers>,
  );
}

describe("the Retention page", () => {
  it("shows the cohort matrix, headline figures and churn by segment as the API gives them", async () => {
    renderRetentionPage();
    const heatmap = await screen.findByRole("table", { name: "Retention by cohort" }, { timeout: 10_000 });
    for (const cohort of RETENTION.cohorts) {
      const row = within(heatmap).getByTestId(`cohort-${cohort.month}`);
      expect(row).toHaveTextContent(formatCount(cohort.customers));
      const cells = within(row).getAllByRole("cell").slice(1).map((c) => c.textContent).filter(Boolean);
      expect(cells).toEqual(cohort.retained.map((share) => formatPercent(share, 0)));
    }
    expect(screen.getByRole("region", { name: "Repeat purchase rate" })).toHaveTextContent(formatPercent(RETENTION.repeat_purchase_rate));
    expect(screen.getByRole("region", { name: "Churn" })).toHaveTextContent(formatPercent(RETENTION.churn.share));
    expect(screen.getByRole("region", { name: "Churned customers" })).toHaveTextContent(formatCount(RETENTION.churn.churned));
    const churn = screen.getByRole("table", { name: "Churn by segment" });
    for (const segment of SEGMENTS) {
      const answer = SEGMENT_RETENTION[segment.id];
      if (!answer) throw new Error("fixture");
      const row = within(churn).getByTestId(`churn-${segment.id}`);
      expect(row).toHaveTextContent(segment.name);
      expect(row).toHaveTextContent(formatPercent(answer.churn.share));
      expect(row).toHaveTextContent(formatPercent(answer.repeat_purchase_rate));
      expect(row).toHaveTextContent(formatCount(answer.churn.churned));
    }
    expect(screen.getByText(/profiles as of/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Retention" })).toHaveAttribute("aria-current", "page");
  }, 20_000);

  it("draws the curves of the cohorts a month old or more, with the API's shares", () => {
    const { cohorts, rows } = curveRows(RETENTION.cohorts);
    expect(cohorts).toEqual(["2026-09", "2026-10", "2026-11"]);
    expect(rows[1]).toEqual({ month: "+1", "2026-09": 0.3125, "2026-10": 0.283871, "2026-11": 0.26 });
    expect(rows[3]).toEqual({ month: "+3", "2026-09": 0.19 });
  });
});
