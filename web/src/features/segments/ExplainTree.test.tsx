import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { ExplainRead as Explanation } from "../../client/segmentation/types.gen";
import { renderWithProviders } from "../../test/render";
import { ExplainTree } from "./ExplainTree";

const EXPLANATION: Explanation = {
  segment_id: "s1",
  profile_id: "p1",
  member: false,
  matches: false,
  as_of: "2026-12-05T12:00:00Z",
  tree: {
    path: "",
    kind: "and",
    result: false,
    children: [
      { path: "and[0]", kind: "trait", result: true, children: [], condition: { trait: "city", op: "eq", value: "Lyon" }, actual: "Lyon" },
      {
        path: "and[1]",
        kind: "event",
        result: false,
        children: [],
        condition: { event: "Order Completed", at_least: 3, within_days: 30 },
        count: 2,
        daily_counts: { "2026-11-20": 1, "2026-11-02": 1 },
      },
      {
        path: "and[2]",
        kind: "not",
        result: true,
        children: [{ path: "and[2].not", kind: "segment", result: false, children: [], condition: { segment: "s9" }, actual: false }],
      },
      { path: "and[3]", kind: "score", result: false, children: [], condition: { score: "clv_percentile", op: "gt", value: 90 }, actual: null },
    ],
  },
};

describe("ExplainTree", () => {
  it("marks every node true or false in words, with the value each leaf read", () => {
    renderWithProviders(<ExplainTree explanation={EXPLANATION} names={(id) => (id === "s9" ? "Churned" : id)} />);
    const city = screen.getByRole("group", { name: "city equals “Lyon”: true" });
    expect(within(city).getByText("Lyon")).toBeInTheDocument();
    expect(screen.getByRole("group", { name: "All of these: false" })).toBeInTheDocument();
    expect(screen.getByRole("group", { name: "Not this: true" })).toBeInTheDocument();
    expect(screen.getByRole("group", { name: "in segment Churned: false" })).toBeInTheDocument();
    const score = screen.getByRole("group", { name: "CLV percentile (0–100) is greater than 90: false" });
    expect(within(score).getByText("not set")).toBeInTheDocument();
  });

  it("shows the counts per day that decided a behaviour condition", () => {
    renderWithProviders(<ExplainTree explanation={EXPLANATION} />);
    const behaviour = screen.getByRole("group", { name: "Order Completed at least 3 times in the last 30 days: false" });
    expect(within(behaviour).getByText("2")).toBeInTheDocument();
    const rows = within(within(behaviour).getByRole("table", { name: "Counts per day" })).getAllByRole("row");
    expect(rows).toHaveLength(3); // header + two days, oldest first
    expect(rows[1]).toHaveTextContent(/Nov 2, 2026|2 Nov 2026/);
  });

  it("says whether the profile is a member and the definition matches", () => {
    renderWithProviders(<ExplainTree explanation={{ ...EXPLANATION, member: true }} />);
    expect(screen.getByText("Member now:").nextSibling).toHaveTextContent("yes");
    expect(screen.getByText(/disagree at this moment/)).toBeInTheDocument();
  });
});
