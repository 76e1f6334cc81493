// Rules in words, for definitions shown read-only and for the explain view.
import { formatValue } from "../../lib/format";
import { BOUNDS, BOUND_LABELS, OP_LABELS, SCORE_LABELS, isRecord, type FieldOp, type ScoreName } from "./rules";

export type SegmentNames = (id: string) => string;

function valueText(op: FieldOp, value: unknown, names: SegmentNames, isCluster: boolean): string {
  if (op === "exists" || op === "not_exists") return "";
  const show = (v: unknown) => (isCluster && typeof v === "string" ? names(v) : typeof v === "string" ? `“${v}”` : formatValue(v));
  if (op === "between" && Array.isArray(value)) return ` ${show(value[0])} and ${show(value[1])}`;
  if (Array.isArray(value)) return ` ${value.map(show).join(", ")}`;
  return ` ${show(value)}`;
}

/** "city equals “Lyon”", "Order Completed at least 2 times in the last 30 days", "in segment VIP". */
export function describeLeaf(condition: Record<string, unknown>, names: SegmentNames = (id) => id): string {
  const op = (typeof condition.op === "string" ? condition.op : "eq") as FieldOp;
  const opText = OP_LABELS[op] ?? op;
  if (typeof condition.trait === "string") return `${condition.trait} ${opText}${valueText(op, condition.value, names, false)}`;
  if (typeof condition.computed === "string") {
    return `${condition.computed.replaceAll("_", " ")} ${opText}${valueText(op, condition.value, names, false)}`;
  }
  if (typeof condition.score === "string") {
    const label = SCORE_LABELS[condition.score as ScoreName] ?? condition.score;
    return `${label} ${opText}${valueText(op, condition.value, names, condition.score === "cluster")}`;
  }
  if (typeof condition.event === "string") {
    const bound = BOUNDS.find((b) => b in condition) ?? "at_least";
    const count = condition[bound];
    const days = condition.within_days;
    const times = count === 1 ? "time" : "times";
    return `${condition.event} ${BOUND_LABELS[bound]} ${formatValue(count)} ${times} in the last ${formatValue(days)} days`;
  }
  if (typeof condition.segment === "string") return `in segment ${names(condition.segment)}`;
  return JSON.stringify(condition);
}

/** A whole rule as nested lines (for a compact read-only view). */
export interface RuleLine {
  depth: number;
  text: string;
}

export function describeRule(rule: unknown, names: SegmentNames = (id) => id, depth = 0): RuleLine[] {
  if (!isRecord(rule)) return [{ depth, text: String(rule) }];
  if (Array.isArray(rule.and) || Array.isArray(rule.or)) {
    const all = Array.isArray(rule.and);
    const children = (all ? rule.and : rule.or) as unknown[];
    return [{ depth, text: all ? "All of:" : "Any of:" }, ...children.flatMap((c) => describeRule(c, names, depth + 1))];
  }
  if ("not" in rule) {
    const inner = describeRule(rule.not, names, depth + 1);
    if (inner.length === 1 && inner[0]) return [{ depth, text: `Not: ${inner[0].text}` }];
    return [{ depth, text: "Not:" }, ...inner];
  }
  return [{ depth, text: describeLeaf(rule, names) }];
}
