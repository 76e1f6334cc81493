import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useMemo, useState } from "react";
import { describe, expect, it } from "vitest";

import { ApiError, fieldErrors } from "../../../api/errors";
import { listSegmentsQueryKey } from "../../../client/segmentation/@tanstack/react-query.gen";
import type { SegmentRead } from "../../../client/segmentation/types.gen";
import { renderWithProviders, testQueryClient } from "../../../test/render";
import type { Rule } from "../rules";
import { SegmentBuilder } from "./SegmentBuilder";
import { fromRule, locateErrors, toRule, type GroupNode } from "./tree";

function Harness({ initial, apiError }: { initial: Rule; apiError?: ApiError }) {
  const [tree, setTree] = useState<GroupNode>(() => fromRule(initial));
  // A 422 is placed against the tree it was answered for: the one first rendered.
  const [sent] = useState(tree);
  const errors = useMemo(
    () => (apiError ? locateErrors(fieldErrors(apiError, "definition"), toRule(sent).paths) : {}),
    [apiError, sent],
  );
  return (
    <>
      <SegmentBuilder value={tree} onChange={setTree} errors={errors} />
      <output data-testid="json">{JSON.stringify(toRule(tree).rule)}</output>
    </>
  );
}

function json(): unknown {
  return JSON.parse(screen.getByTestId("json").textContent ?? "null");
}

const SEGMENTS = [
  { id: "seg-vip", name: "VIP", kind: "rules" },
  { id: "seg-c1", name: "Cluster 1: high orders", kind: "cluster" },
] as SegmentRead[];

function setup(initial: Rule, apiError?: ApiError) {
  const client = testQueryClient();
  client.setQueryData(listSegmentsQueryKey(), SEGMENTS);
  const user = userEvent.setup();
  renderWithProviders(<Harness initial={initial} apiError={apiError} />, { client, role: "marketer" });
  return user;
}

const condition = (number: string) => screen.getByRole("group", { name: `Condition ${number}` });

async function choose(user: ReturnType<typeof userEvent.setup>, input: HTMLElement, option: string | RegExp) {
  await user.click(input);
  await user.click(await screen.findByRole("option", { name: option }));
}

describe("SegmentBuilder", () => {
  it("adds a trait condition and writes what was typed", async () => {
    const user = setup({ and: [{ segment: "seg-vip" }] });
    await user.click(screen.getByRole("button", { name: "Add condition to all conditions" }));
    await user.click(await screen.findByRole("menuitem", { name: "Trait" }));
    const leaf = condition("2");
    await user.type(within(leaf).getByRole("combobox", { name: "Trait" }), "city");
    await user.type(within(leaf).getByRole("combobox", { name: "Value" }), "Lyon");
    expect(json()).toEqual({ and: [{ segment: "seg-vip" }, { trait: "city", op: "eq", value: "Lyon" }] });
  });

  it("adds a nested group, switches it to OR and negates it", async () => {
    const user = setup({ and: [{ segment: "seg-vip" }] });
    await user.click(screen.getByRole("button", { name: "Add group to all conditions" }));
    const group = screen.getByRole("group", { name: "Group 2" });
    expect(json()).toEqual({ and: [{ segment: "seg-vip" }, { or: [{ trait: "", op: "eq", value: "" }] }] });
    await user.click(within(group).getByRole("radio", { name: "all (AND)" }));
    await user.click(screen.getByRole("switch", { name: "Negate group 2" }));
    expect(json()).toEqual({ and: [{ segment: "seg-vip" }, { not: { and: [{ trait: "", op: "eq", value: "" }] } }] });
  });

  it("removes and reorders with the keyboard-reachable buttons", async () => {
    const user = setup({ and: [{ segment: "a" }, { segment: "b" }, { segment: "c" }] });
    await user.click(screen.getByRole("button", { name: "Move condition 1 down" }));
    expect(json()).toEqual({ and: [{ segment: "b" }, { segment: "a" }, { segment: "c" }] });
    expect(screen.getByRole("button", { name: "Move condition 1 up" })).toBeDisabled();
    screen.getByRole("button", { name: "Remove condition 3" }).focus();
    await user.keyboard("{Enter}");
    expect(json()).toEqual({ and: [{ segment: "b" }, { segment: "a" }] });
  });

  it("negates a single condition", async () => {
    const user = setup({ and: [{ computed: "orders", op: "gte", value: 3 }] });
    await user.click(screen.getByRole("switch", { name: "Negate condition 1" }));
    expect(json()).toEqual({ and: [{ not: { computed: "orders", op: "gte", value: 3 } }] });
  });

  it("edits a computed-trait condition as a number range", async () => {
    const user = setup({ and: [{ computed: "orders", op: "gte", value: 3 }] });
    const leaf = condition("1");
    await choose(user, within(leaf).getByRole("combobox", { name: "Condition" }), "is between");
    await user.type(within(leaf).getByRole("textbox", { name: "From" }), "2");
    await user.type(within(leaf).getByRole("textbox", { name: "To" }), "10");
    expect(json()).toEqual({ and: [{ computed: "orders", op: "between", value: [2, 10] }] });
  });

  it("edits a behaviour condition", async () => {
    const user = setup({ and: [{ event: "Order Completed", at_least: 1, within_days: 30 }] });
    const leaf = condition("1");
    await choose(user, within(leaf).getByRole("combobox", { name: "How often" }), "at most");
    const times = within(leaf).getByRole("textbox", { name: "Times" });
    await user.clear(times);
    await user.type(times, "0");
    const days = within(leaf).getByRole("textbox", { name: "In the last (days)" });
    await user.clear(days);
    await user.type(days, "60");
    expect(json()).toEqual({ and: [{ event: "Order Completed", at_most: 0, within_days: 60 }] });
  });

  it("edits a score condition, with the RFM names and clusters offered", async () => {
    const user = setup({ and: [{ score: "clv_percentile", op: "gte", value: 90 }] });
    const leaf = condition("1");
    await choose(user, within(leaf).getByRole("combobox", { name: "Score" }), "Cluster");
    await choose(user, within(leaf).getByRole("combobox", { name: "Cluster" }), "Cluster 1: high orders");
    expect(json()).toEqual({ and: [{ score: "cluster", op: "eq", value: "seg-c1" }] });
    await choose(user, within(leaf).getByRole("combobox", { name: "Score" }), "RFM segment");
    const value = within(leaf).getByRole("combobox", { name: "Value" });
    await user.type(value, "Champ");
    await user.click(await screen.findByRole("option", { name: "Champions" }));
    expect(json()).toEqual({ and: [{ score: "rfm_segment", op: "eq", value: "Champions" }] });
  });

  it("edits a segment-membership condition", async () => {
    const user = setup({ and: [{ trait: "plan", op: "eq", value: "plus" }] });
    await user.click(screen.getByRole("button", { name: "Add condition to all conditions" }));
    await user.click(await screen.findByRole("menuitem", { name: "Segment membership" }));
    await choose(user, within(condition("2")).getByRole("combobox", { name: "Is a member of" }), "VIP");
    expect(json()).toEqual({ and: [{ trait: "plan", op: "eq", value: "plus" }, { segment: "seg-vip" }] });
  });

  it("compares a trait as yes / no", async () => {
    const user = setup({ and: [{ trait: "vip", op: "eq", value: "x" }] });
    const leaf = condition("1");
    await choose(user, within(leaf).getByRole("combobox", { name: "Compare as" }), "Yes / no");
    expect(json()).toEqual({ and: [{ trait: "vip", op: "eq", value: true }] });
  });

  it("shows a 422 from the API at the node its field path names", () => {
    const error = new ApiError(422, "invalid", "The segment definition is not valid", [
      { field: "definition.and[1].or[0].op", reason: "must be one of eq, neq, gt" },
      { field: "definition.and[0].not.within_days", reason: "must be a whole number from 1 to 90" },
    ]);
    setup(
      {
        and: [
          { not: { event: "page", at_least: 1, within_days: 91 } },
          { or: [{ trait: "city", op: "eq", value: "Lyon" }, { trait: "plan", op: "eq", value: "free" }] },
        ],
      },
      error,
    );
    expect(within(condition("2.1")).getByText("must be one of eq, neq, gt")).toBeInTheDocument();
    expect(within(condition("2.2")).queryByText("must be one of eq, neq, gt")).not.toBeInTheDocument();
    expect(within(condition("1")).getByText("must be a whole number from 1 to 90")).toBeInTheDocument();
    // At the input itself: the condition's operator, the behaviour's days.
    expect(within(condition("2.1")).getByRole("combobox", { name: "Condition" })).toHaveAccessibleDescription(
      "must be one of eq, neq, gt",
    );
    expect(within(condition("1")).getByRole("textbox", { name: "In the last (days)" })).toHaveAccessibleDescription(
      "must be a whole number from 1 to 90",
    );
  });
});
