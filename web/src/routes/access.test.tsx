// Analysts see every screen, without the buttons that write; marketers write; admins also erase and undo merges.
// These render the real routes (router, console layout, screens) with data put in the query cache beforehand.
import { RouterProvider, createMemoryHistory, createRouter } from "@tanstack/react-router";
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { meQueryKey, type Role } from "../auth/session";
import { getProfileQueryKey } from "../client/profiles/@tanstack/react-query.gen";
import type { ProfileRead } from "../client/profiles/types.gen";
import {
  getHistoryQueryKey,
  getSegmentQueryKey,
  listSegmentsQueryKey,
} from "../client/segmentation/@tanstack/react-query.gen";
import type { SegmentRead } from "../client/segmentation/types.gen";
import { routeTree } from "../routeTree.gen";
import { Providers, me, testQueryClient } from "../test/render";

const SEGMENT = {
  id: "seg-1",
  name: "Big spenders",
  description: "",
  definition: { and: [{ computed: "revenue", op: "gte", value: 500 }] },
  kind: "rules",
  goal: null,
  status: "ready",
  size: 54,
  last_computed_at: "2026-12-05T12:00:00Z",
  last_error: null,
  created_at: "2026-12-01T12:00:00Z",
  updated_at: "2026-12-01T12:00:00Z",
} satisfies SegmentRead;

const PROFILE = {
  id: "p-1",
  traits: { email: "ada@example.com" },
  computed: { orders: 3 },
  consent: { email: { granted: true, source: "identify", at: "2026-12-01T12:00:00Z" } },
  first_seen_at: "2026-06-01T12:00:00Z",
  last_seen_at: "2026-12-01T12:00:00Z",
  identities: [{ kind: "email", value: "ada@example.com" }],
} satisfies ProfileRead;

function renderAt(path: string, role: Role) {
  const client = testQueryClient();
  client.setQueryData(meQueryKey, me(role));
  client.setQueryData(listSegmentsQueryKey(), [SEGMENT]);
  client.setQueryData(getHistoryQueryKey({ path: { segment_id: SEGMENT.id } }), []);
  client.setQueryData(getSegmentQueryKey({ path: { segment_id: SEGMENT.id } }), SEGMENT);
  client.setQueryData(getProfileQueryKey({ path: { profile_id: PROFILE.id } }), PROFILE);
  const router = createRouter({ routeTree, context: { queryClient: client }, history: createMemoryHistory({ initialEntries: [path] }) });
  render(
    <Providers client={client}>
      <RouterProvider router={router} />
    </Providers>,
  );
}

describe("what each role sees", () => {
  it("shows the user's name and role in the layout", async () => {
    renderAt("/segments", "analyst");
    // The first render through the real router loads the route chunks: give it time on a busy machine.
    expect(await screen.findByRole("button", { name: /Analyst User.*Analyst/ }, { timeout: 10_000 })).toBeInTheDocument();
    const nav = screen.getByRole("navigation", { name: "Main navigation" });
    for (const item of ["Overview", "Segments", "Customers", "Models", "Campaigns", "Analytics", "Social", "Settings"]) {
      expect(within(nav).getByRole("link", { name: new RegExp(item) })).toBeInTheDocument();
    }
  }, 20_000);

  it("hides New segment from analysts and shows it to marketers", async () => {
    renderAt("/segments", "analyst");
    expect(await screen.findByRole("link", { name: "Big spenders" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: /New segment/ })).not.toBeInTheDocument();
  });

  it("offers New segment to marketers", async () => {
    renderAt("/segments", "marketer");
    expect(await screen.findByRole("link", { name: /New segment/ })).toHaveAttribute("href", "/segments/new");
  });

  it("hides Edit and Delete of a segment from analysts", async () => {
    renderAt("/segments/seg-1", "analyst");
    expect(await screen.findByRole("heading", { name: "Big spenders", level: 1 })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Edit" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();
  });

  it("gives marketers Edit and Delete of a segment", async () => {
    renderAt("/segments/seg-1", "marketer");
    expect(await screen.findByRole("button", { name: "Edit" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Delete" })).toBeInTheDocument();
  });

  it("lets marketers change consent, not analysts", async () => {
    renderAt("/customers/p-1?tab=consent", "analyst");
    expect(await screen.findByRole("table", { name: "Consent per channel" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /consent/ })).not.toBeInTheDocument();
  });

  it("shows marketers the consent buttons but not erasure", async () => {
    renderAt("/customers/p-1?tab=consent", "marketer");
    expect(await screen.findByRole("button", { name: "Withdraw e-mail consent" })).toBeInTheDocument();
    expect(screen.queryByRole("tab", { name: "Erase" })).not.toBeInTheDocument();
  });

  it("lets admins erase, after typing the e-mail", async () => {
    renderAt("/customers/p-1?tab=erase", "admin");
    expect(await screen.findByRole("tab", { name: "Erase" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Erase customer…" })).toBeInTheDocument();
  });
});
