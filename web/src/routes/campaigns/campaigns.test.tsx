// The campaigns screens through the real router: the list's figures are the summary's; analysts get no write buttons.
import { RouterProvider, createMemoryHistory, createRouter } from "@tanstack/react-router";
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { Role } from "../../auth/session";
import { meQueryKey } from "../../auth/session";
import { getCampaignQueryKey, listCampaignSummariesQueryKey } from "../../client/campaigns/@tanstack/react-query.gen";
import type { CampaignRead } from "../../client/campaigns/types.gen";
import { listSegmentsQueryKey } from "../../client/segmentation/@tanstack/react-query.gen";
import { SUMMARIES } from "../../features/campaigns/fixtures";
import { formatCount, formatInterval, formatSignedPercent } from "../../lib/format";
import { routeTree } from "../../routeTree.gen";
import { Providers, me, testQueryClient } from "../../test/render";

const CAMPAIGN: CampaignRead = {
  id: "c2",
  name: "Draft one",
  status: "draft",
  channel: "email",
  goal_event: "Order Completed",
  target_segments: ["seg-1"],
  exclude_segments: [],
  variants: [{ id: "v1", name: "A", weight: 1, subject: "Hi", body: "<p>Hi</p>" }],
  holdout_percent: 10,
  schedule: { type: "now" },
  frequency_cap: null,
  attribution: { model: "last_touch", window_days: 7 },
  ab_test: null,
  webhook_url: null,
  progress: {},
  winner_variant_id: null,
  last_error: null,
  launched_at: null,
  test_ends_at: null,
  created_at: "2026-12-01T12:00:00Z",
  updated_at: "2026-12-01T12:00:00Z",
};

function renderAt(path: string, role: Role) {
  const client = testQueryClient();
  client.setQueryData(meQueryKey, me(role));
  client.setQueryData(listCampaignSummariesQueryKey(), SUMMARIES);
  client.setQueryData(getCampaignQueryKey({ path: { campaign_id: CAMPAIGN.id } }), CAMPAIGN);
  client.setQueryData(listSegmentsQueryKey(), []);
  const router = createRouter({ routeTree, context: { queryClient: client }, history: createMemoryHistory({ initialEntries: [path] }) });
  render(
    <Providers client={client}>
      <RouterProvider router={router} />
    </Providers>,
  );
}

describe("campaigns list", () => {
  it("shows each campaign's figures and lift as the summary gives them", async () => {
    renderAt("/campaigns", "marketer");
    const table = await screen.findByRole("table", { name: "Campaigns" }, { timeout: 10_000 });
    const row = within(table).getByTestId("campaign-c1");
    const c = SUMMARIES[0];
    if (!c) throw new Error("fixture");
    for (const n of [c.audience, c.sent, c.human_opens, c.clicks, c.conversions]) expect(row).toHaveTextContent(formatCount(n));
    const f = (v: number) => formatSignedPercent(v, 1);
    expect(row).toHaveTextContent(formatInterval(0.1021, 0.7225, f));
    expect(within(table).getByTestId("campaign-c2")).toHaveTextContent("webhook answered 500");
    expect(screen.getByRole("link", { name: "New campaign" })).toBeInTheDocument();
  }, 20_000);

  it("gives analysts no way to create", async () => {
    renderAt("/campaigns", "analyst");
    await screen.findByRole("table", { name: "Campaigns" }, { timeout: 10_000 });
    expect(screen.queryByRole("link", { name: "New campaign" })).not.toBeInTheDocument();
  }, 20_000);
});

describe("a campaign's page", () => {
  it("offers a marketer edit and launch", async () => {
    renderAt("/campaigns/c2", "marketer");
    expect(await screen.findByRole("heading", { name: "Draft one" }, { timeout: 10_000 })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Launch…" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Edit" })).toBeInTheDocument();
  }, 20_000);

  it("gives an analyst no launch, pause or edit", async () => {
    renderAt("/campaigns/c2", "analyst");
    expect(await screen.findByRole("heading", { name: "Draft one" }, { timeout: 10_000 })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Launch…" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Pause" })).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Edit" })).not.toBeInTheDocument();
  }, 20_000);
});
