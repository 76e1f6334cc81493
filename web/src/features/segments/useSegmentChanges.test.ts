import { describe, expect, it } from "vitest";

import type { SegmentRead } from "../../client/segmentation/types.gen";
import { describeRule } from "./describe";
import { diffSizes } from "./useSegmentChanges";

const segment = (id: string, size: number) => ({ id, name: id.toUpperCase(), size }) as SegmentRead;

describe("the live feed of entries and exits", () => {
  it("reports each segment whose size changed since the last check, not new or deleted ones", () => {
    const at = new Date("2026-12-05T12:00:00Z");
    const before = new Map([
      ["a", 10],
      ["b", 5],
      ["gone", 3],
    ]);
    const changes = diffSizes(before, [segment("a", 12), segment("b", 5), segment("new", 7)], at);
    expect(changes).toEqual([{ key: `a@${at.getTime()}`, at, segmentId: "a", name: "A", from: 10, to: 12 }]);
  });
});

describe("definitions in words", () => {
  it("writes nested rules as indented lines", () => {
    const lines = describeRule(
      { and: [{ trait: "city", op: "in", value: ["Lyon", "Paris"] }, { not: { or: [{ segment: "s1" }, { score: "p_alive", op: "lt", value: 0.3 }] } }] },
      (id) => (id === "s1" ? "VIP" : id),
    );
    expect(lines).toEqual([
      { depth: 0, text: "All of:" },
      { depth: 1, text: "city is one of “Lyon”, “Paris”" },
      { depth: 1, text: "Not:" },
      { depth: 2, text: "Any of:" },
      { depth: 3, text: "in segment VIP" },
      { depth: 3, text: "Probability still active (0–1) is less than 0.3" },
    ]);
  });
});
