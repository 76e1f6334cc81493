import { describe, expect, it } from "vitest";

import { ApiError, fieldErrors } from "../../../api/errors";
import type { Rule } from "../rules";
import {
  addChild,
  checkTree,
  fromRule,
  locateErrors,
  moveBy,
  moveWithin,
  newGroup,
  newLeaf,
  removeNode,
  setGroupOp,
  toRule,
  toggleNegation,
  updateLeaf,
  wrapInGroup,
  type GroupNode,
} from "./tree";

const EVERY_KIND: Rule = {
  and: [
    { trait: "city", op: "eq", value: "Lyon" },
    {
      or: [
        { computed: "orders", op: "gte", value: 3 },
        { not: { event: "Order Completed", at_least: 2, within_days: 30 } },
      ],
    },
    { score: "clv_percentile", op: "gt", value: 90 },
    { score: "rfm_segment", op: "in", value: ["Champions", "Loyal"] },
    { computed: "revenue", op: "between", value: [100, 500] },
    { trait: "vip", op: "eq", value: true },
    { trait: "email", op: "exists" },
    { segment: "seg-1" },
  ],
};

function child(root: GroupNode, ...indices: number[]) {
  let node: GroupNode | GroupNode["children"][number] = root;
  for (const i of indices) {
    if (node.type !== "group") throw new Error("not a group");
    node = node.children[i];
  }
  return node;
}

describe("reading and writing rules", () => {
  it("round-trips every leaf kind, nesting and negation", () => {
    expect(toRule(fromRule(EVERY_KIND)).rule).toEqual(EVERY_KIND);
  });

  it("wraps a lone condition in an AND group", () => {
    const tree = fromRule({ trait: "city", op: "eq", value: "Lyon" });
    expect(toRule(tree).rule).toEqual({ and: [{ trait: "city", op: "eq", value: "Lyon" }] });
  });

  it("keeps the JSON types of values: numbers, booleans, lists", () => {
    const rule = toRule(fromRule({ or: [{ trait: "age", op: "in", value: [30, 40] }, { trait: "ok", op: "neq", value: false }] })).rule;
    expect(rule).toEqual({ or: [{ trait: "age", op: "in", value: [30, 40] }, { trait: "ok", op: "neq", value: false }] });
  });

  it("names each node's JSON path as segmentation does in errors", () => {
    const tree = fromRule(EVERY_KIND);
    const { paths } = toRule(tree);
    expect(paths.get("")).toBe(tree.id);
    expect(paths.get("and[1].or[0]")).toBe(child(tree, 1, 0).id);
    expect(paths.get("and[1].or[1]")).toBe(child(tree, 1, 1).id);
    expect(paths.get("and[1].or[1].not")).toBe(child(tree, 1, 1).id);
  });
});

describe("editing the tree", () => {
  it("adds conditions and groups where asked", () => {
    let tree = newGroup("and");
    const trait = newLeaf("trait");
    tree = addChild(tree, tree.id, trait);
    tree = updateLeaf(tree, trait.id, (l) => ({ ...l, key: "city", value: "Paris" }));
    const group = newGroup("or", [newLeaf("event")]);
    tree = addChild(tree, tree.id, group);
    const segment = newLeaf("segment");
    tree = addChild(tree, group.id, segment);
    tree = updateLeaf(tree, segment.id, (l) => ({ ...l, segmentId: "vip" }));
    expect(toRule(tree).rule).toEqual({
      and: [
        { trait: "city", op: "eq", value: "Paris" },
        { or: [{ event: "", at_least: 1, within_days: 30 }, { segment: "vip" }] },
      ],
    });
  });

  it("removes a node and everything under it, never the root", () => {
    const tree = fromRule(EVERY_KIND);
    const group = child(tree, 1);
    const smaller = removeNode(tree, group.id);
    expect((toRule(smaller).rule as { and: Rule[] }).and).toHaveLength(7);
    expect(JSON.stringify(toRule(smaller).rule)).not.toContain("Order Completed");
    expect(removeNode(tree, tree.id)).toBe(tree);
  });

  it("reorders within a group by buttons and by drag", () => {
    const tree = fromRule({ and: [{ segment: "a" }, { segment: "b" }, { segment: "c" }] });
    const [a, b, c] = tree.children.map((n) => n.id);
    expect(toRule(moveBy(tree, a, 1)).rule).toEqual({ and: [{ segment: "b" }, { segment: "a" }, { segment: "c" }] });
    expect(toRule(moveBy(tree, c, -1)).rule).toEqual({ and: [{ segment: "a" }, { segment: "c" }, { segment: "b" }] });
    expect(moveBy(tree, a, -1)).toEqual(tree); // already first
    expect(toRule(moveWithin(tree, tree.id, 0, 2)).rule).toEqual({ and: [{ segment: "b" }, { segment: "c" }, { segment: "a" }] });
    expect(b).toBeDefined();
  });

  it("negates groups and leaves, and negating twice gives the condition back", () => {
    const tree = fromRule({ and: [{ segment: "a" }, { or: [{ segment: "b" }, { segment: "c" }] }] });
    const inner = child(tree, 1);
    const negated = toggleNegation(toggleNegation(tree, inner.id), child(tree, 0).id);
    expect(toRule(negated).rule).toEqual({ and: [{ not: { segment: "a" } }, { not: { or: [{ segment: "b" }, { segment: "c" }] } }] });
    expect(toRule(toggleNegation(toggleNegation(tree, inner.id), inner.id)).rule).toEqual(toRule(tree).rule);
    expect(toRule(toggleNegation(tree, tree.id)).rule).toEqual({ not: toRule(tree).rule });
  });

  it("switches a group between AND and OR", () => {
    const tree = fromRule({ and: [{ segment: "a" }, { segment: "b" }] });
    expect(toRule(setGroupOp(tree, tree.id, "or")).rule).toEqual({ or: [{ segment: "a" }, { segment: "b" }] });
  });

  it("wraps a condition in a group of the other operator", () => {
    const tree = fromRule({ and: [{ segment: "a" }, { segment: "b" }] });
    expect(toRule(wrapInGroup(tree, child(tree, 1).id)).rule).toEqual({ and: [{ segment: "a" }, { or: [{ segment: "b" }] }] });
  });
});

describe("errors at nodes", () => {
  it("places a 422 field path at the node it names, with the field", () => {
    const tree = fromRule(EVERY_KIND);
    const { paths } = toRule(tree);
    const error = new ApiError(422, "invalid", "The segment definition is not valid", [
      { field: "definition.and[1].or[0].op", reason: "must be one of eq, neq" },
      { field: "definition.and[1].or[1].not.within_days", reason: "must be a whole number from 1 to 90" },
      { field: "definition.and[3].value", reason: "must be a list" },
      { field: "definition", reason: "unknown segment x" },
      { field: "name", reason: "too long" },
    ]);
    const errors = locateErrors(fieldErrors(error, "definition"), paths);
    expect(errors[child(tree, 1, 0).id]).toEqual({ op: "must be one of eq, neq" });
    expect(errors[child(tree, 1, 1).id]).toEqual({ within_days: "must be a whole number from 1 to 90" });
    expect(errors[child(tree, 3).id]).toEqual({ value: "must be a list" });
    expect(errors[tree.id]).toEqual({ "": "unknown segment x" });
    expect(Object.keys(errors)).toHaveLength(4);
  });

  it("does not confuse and[1] with and[10]", () => {
    const tree = fromRule({ and: Array.from({ length: 11 }, (_, i) => ({ segment: `s${i}` })) });
    const errors = locateErrors({ "and[10].segment": "unknown" }, toRule(tree).paths);
    expect(errors[child(tree, 10).id]).toEqual({ segment: "unknown" });
    expect(errors[child(tree, 1).id]).toBeUndefined();
  });

  it("finds what can be told before sending", () => {
    const tree = fromRule({ and: [{ trait: "", op: "eq", value: "" }, { event: "x", at_least: 1, within_days: 120 }, { or: [] }] });
    const errors = checkTree(tree);
    expect(errors[child(tree, 0).id]).toEqual({ trait: "Choose what to compare.", value: "Enter a value." });
    expect(errors[child(tree, 1).id]).toEqual({ within_days: "A whole number of days from 1 to 90." });
    expect(errors[child(tree, 2).id]).toEqual({ "": "Add at least one condition to this group." });
    expect(checkTree(fromRule(EVERY_KIND))).toEqual({});
  });
});
