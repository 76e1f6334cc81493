// The segment builder's editable tree and its pure operations: every edit returns a new tree, so the editor's state
// is one value, undo is cheap and every edit is testable without rendering. `toRule` gives segmentation's JSON and
// the JSON path of each node, which is how a 422 (`definition.and[1].or[0].op`) finds the node it names.
import {
  BOUNDS,
  TEXT_SCORES,
  isRecord,
  type Bound,
  type FieldOp,
  type FieldValue,
  type Rule,
  type Scalar,
  type ScoreName,
} from "../rules";

export type ValueType = "string" | "number" | "boolean";
export type FieldSource = "trait" | "computed" | "score";

/** A trait, computed trait or score compared with a value; inputs are kept as typed (strings) until serialised. */
export interface FieldLeaf {
  kind: FieldSource;
  key: string;
  op: FieldOp;
  valueType: ValueType;
  value: string;
  values: string[];
  low: string;
  high: string;
}

export interface EventLeaf {
  kind: "event";
  event: string;
  bound: Bound;
  count: number | "";
  days: number | "";
}

export interface SegmentLeaf {
  kind: "segment";
  segmentId: string;
}

export type Leaf = FieldLeaf | EventLeaf | SegmentLeaf;
export type LeafKind = Leaf["kind"];

export interface LeafNode {
  id: string;
  type: "leaf";
  negated: boolean;
  leaf: Leaf;
}

export interface GroupNode {
  id: string;
  type: "group";
  op: "and" | "or";
  negated: boolean;
  children: EditorNode[];
}

export type EditorNode = LeafNode | GroupNode;

let counter = 0;
export function newId(): string {
  counter += 1;
  return `n${counter}`;
}

export function newGroup(op: "and" | "or" = "and", children: EditorNode[] = []): GroupNode {
  return { id: newId(), type: "group", op, negated: false, children };
}

export function defaultLeaf(kind: LeafKind): Leaf {
  const field = (source: FieldSource, key: string, op: FieldOp, valueType: ValueType, value = ""): FieldLeaf => ({
    kind: source,
    key,
    op,
    valueType,
    value,
    values: [],
    low: "",
    high: "",
  });
  switch (kind) {
    case "trait":
      return field("trait", "", "eq", "string");
    case "computed":
      return field("computed", "", "gte", "number");
    case "score":
      return field("score", "clv_percentile", "gte", "number", "90");
    case "event":
      return { kind: "event", event: "", bound: "at_least", count: 1, days: 30 };
    case "segment":
      return { kind: "segment", segmentId: "" };
  }
}

export function newLeaf(kind: LeafKind): LeafNode {
  return { id: newId(), type: "leaf", negated: false, leaf: defaultLeaf(kind) };
}

// ------------------------------------------------------------------------------------------- reading a rule

function valueTypeOf(value: unknown): ValueType {
  const sample = Array.isArray(value) ? (value as unknown[])[0] : value;
  return typeof sample === "number" ? "number" : typeof sample === "boolean" ? "boolean" : "string";
}

function raw(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : "";
}

function fieldLeaf(kind: FieldSource, key: string, rule: Record<string, unknown>): FieldLeaf {
  const op = (typeof rule.op === "string" ? rule.op : "eq") as FieldOp;
  const value = rule.value;
  const list = Array.isArray(value) ? (value as unknown[]).map(raw) : [];
  return {
    kind,
    key,
    op,
    valueType: valueTypeOf(value),
    value: Array.isArray(value) ? "" : raw(value),
    values: op === "between" ? [] : list,
    low: op === "between" ? (list[0] ?? "") : "",
    high: op === "between" ? (list[1] ?? "") : "",
  };
}

function leafOf(rule: Record<string, unknown>): Leaf | null {
  if (typeof rule.trait === "string") return fieldLeaf("trait", rule.trait, rule);
  if (typeof rule.computed === "string") return fieldLeaf("computed", rule.computed, rule);
  if (typeof rule.score === "string") return fieldLeaf("score", rule.score, rule);
  if (typeof rule.segment === "string") return { kind: "segment", segmentId: rule.segment };
  if (typeof rule.event === "string") {
    const bound = BOUNDS.find((b) => b in rule) ?? "at_least";
    const count = rule[bound];
    const days = rule.within_days;
    return {
      kind: "event",
      event: rule.event,
      bound,
      count: typeof count === "number" ? count : "",
      days: typeof days === "number" ? days : "",
    };
  }
  return null;
}

function nodeOf(rule: unknown): EditorNode {
  if (!isRecord(rule)) throw new Error("A condition must be an object.");
  if (Array.isArray(rule.and) || Array.isArray(rule.or)) {
    const op = Array.isArray(rule.and) ? "and" : "or";
    return newGroup(op, (rule[op] as unknown[]).map(nodeOf));
  }
  if ("not" in rule) {
    const inner = nodeOf(rule.not);
    return { ...inner, negated: !inner.negated };
  }
  const leaf = leafOf(rule);
  if (!leaf) throw new Error(`Unknown condition: ${JSON.stringify(rule)}`);
  return { id: newId(), type: "leaf", negated: false, leaf };
}

/** The editor tree of a segment definition; the root is always a group (a lone condition becomes an AND of one). */
export function fromRule(rule: unknown): GroupNode {
  const node = nodeOf(rule);
  return node.type === "group" ? node : newGroup("and", [node]);
}

// ------------------------------------------------------------------------------------------- writing a rule

function parseScalar(input: string, type: ValueType): Scalar {
  if (type === "number") return Number(input.trim());
  if (type === "boolean") return input === "true";
  return input;
}

function fieldValue(leaf: FieldLeaf): FieldValue | undefined {
  if (leaf.op === "exists" || leaf.op === "not_exists") return undefined;
  if (leaf.op === "in" || leaf.op === "not_in") return leaf.values.map((v) => parseScalar(v, leaf.valueType));
  if (leaf.op === "between") return [parseScalar(leaf.low, leaf.valueType), parseScalar(leaf.high, leaf.valueType)];
  return parseScalar(leaf.value, leaf.valueType);
}

export function leafRule(leaf: Leaf): Rule {
  switch (leaf.kind) {
    case "trait":
    case "computed":
    case "score": {
      const value = fieldValue(leaf);
      const subject =
        leaf.kind === "trait"
          ? { trait: leaf.key }
          : leaf.kind === "computed"
            ? { computed: leaf.key }
            : { score: leaf.key as ScoreName };
      return value === undefined ? { ...subject, op: leaf.op } : { ...subject, op: leaf.op, value };
    }
    case "event":
      return { event: leaf.event, [leaf.bound]: leaf.count, within_days: leaf.days } as Rule;
    case "segment":
      return { segment: leaf.segmentId };
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export interface Serialized {
  rule: Rule;
  /** JSON path of each node in `rule` (as segmentation names them in errors) → node id. */
  paths: Map<string, string>;
}

/** Segmentation's JSON for the tree, and where each node sits in it. */
export function toRule(root: GroupNode): Serialized {
  const paths = new Map<string, string>();
  const write = (node: EditorNode, path: string): Rule => {
    paths.set(path, node.id);
    if (!node.negated) return writeInner(node, path);
    const inner = join(path, "not");
    paths.set(inner, node.id);
    return { not: writeInner(node, inner) };
  };
  const writeInner = (node: EditorNode, path: string): Rule => {
    if (node.type === "leaf") return leafRule(node.leaf);
    const children = node.children.map((child, i) => write(child, `${join(path, node.op)}[${i}]`));
    return node.op === "and" ? { and: children } : { or: children };
  };
  return { rule: write(root, ""), paths };
}

// ------------------------------------------------------------------------------------------- errors at nodes

/** Errors per node id, then per field of that node ("" for the node as a whole). */
export type NodeErrors = Record<string, Record<string, string>>;

function addError(errors: NodeErrors, id: string, field: string, reason: string): void {
  errors[id] = { ...errors[id], [field]: reason };
}

/**
 * Place field errors of a definition (paths relative to it, e.g. `and[1].or[0].op`) at the nodes they name: the
 * longest node path that is a prefix of the error's path owns it, the rest of the path is the field.
 */
export function locateErrors(fields: Record<string, string>, paths: Map<string, string>): NodeErrors {
  const errors: NodeErrors = {};
  const known = [...paths.keys()].sort((a, b) => b.length - a.length);
  for (const [path, reason] of Object.entries(fields)) {
    const owner = known.find((p) => p === "" || path === p || path.startsWith(`${p}.`)) ?? "";
    const id = paths.get(owner);
    if (id === undefined) continue;
    const rest = path === owner ? "" : owner ? path.slice(owner.length + 1) : path;
    // `not.x` under a negated node names the node's own field x.
    addError(errors, id, rest.replace(/^not(\.|$)/, ""), reason);
  }
  return errors;
}

// ------------------------------------------------------------------------------------------- checks before sending

function scalarProblem(input: string, type: ValueType): string | null {
  if (type === "number") return input.trim() !== "" && Number.isFinite(Number(input.trim())) ? null : "Enter a number.";
  if (type === "boolean") return input === "true" || input === "false" ? null : "Choose yes or no.";
  return null;
}

function fieldLeafProblems(leaf: FieldLeaf): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!leaf.key.trim()) problems[leaf.kind] = "Choose what to compare.";
  if (leaf.op === "exists" || leaf.op === "not_exists") return problems;
  if (leaf.op === "in" || leaf.op === "not_in") {
    if (leaf.values.length === 0) problems.value = "Add at least one value.";
    const bad = leaf.values.map((v) => scalarProblem(v, leaf.valueType)).find(Boolean);
    if (bad) problems.value = bad;
  } else if (leaf.op === "between") {
    const bad = scalarProblem(leaf.low, leaf.valueType) ?? scalarProblem(leaf.high, leaf.valueType);
    if (bad || !leaf.low.trim() || !leaf.high.trim()) problems.value = bad ?? "Enter both ends.";
    else if (leaf.valueType === "number" && Number(leaf.low) > Number(leaf.high)) problems.value = "The low end is above the high end.";
  } else if (leaf.valueType !== "boolean" && !leaf.value.trim()) {
    problems.value = "Enter a value.";
  } else {
    const bad = scalarProblem(leaf.value, leaf.valueType);
    if (bad) problems.value = bad;
    if ((leaf.op === "contains" || leaf.op === "starts_with") && leaf.valueType !== "string") {
      problems.value = "Text comparisons need a text value.";
    }
  }
  return problems;
}

function leafProblems(leaf: Leaf): Record<string, string> {
  switch (leaf.kind) {
    case "trait":
    case "computed":
    case "score":
      return fieldLeafProblems(leaf);
    case "event": {
      const problems: Record<string, string> = {};
      if (!leaf.event.trim()) problems.event = "Choose an event.";
      if (leaf.count === "" || leaf.count < 0 || !Number.isInteger(leaf.count)) problems[leaf.bound] = "A whole number, 0 or more.";
      if (leaf.days === "" || !Number.isInteger(leaf.days) || leaf.days < 1 || leaf.days > 90) {
        problems.within_days = "A whole number of days from 1 to 90.";
      }
      return problems;
    }
    case "segment":
      return leaf.segmentId ? {} : { segment: "Choose a segment." };
  }
}

/** What the builder can tell is wrong before asking segmentation (which checks everything again). */
export function checkTree(root: GroupNode): NodeErrors {
  const errors: NodeErrors = {};
  const visit = (node: EditorNode): void => {
    if (node.type === "group") {
      if (node.children.length === 0) addError(errors, node.id, "", "Add at least one condition to this group.");
      node.children.forEach(visit);
      return;
    }
    for (const [field, reason] of Object.entries(leafProblems(node.leaf))) addError(errors, node.id, field, reason);
  };
  visit(root);
  return errors;
}

// ------------------------------------------------------------------------------------------- edits

function mapTree(node: EditorNode, fn: (n: EditorNode) => EditorNode): EditorNode {
  const mapped = fn(node);
  if (mapped.type !== "group") return mapped;
  const children = mapped.children.map((c) => mapTree(c, fn));
  return children.every((c, i) => c === mapped.children[i]) ? mapped : { ...mapped, children };
}

function mapGroup(root: GroupNode, fn: (n: EditorNode) => EditorNode): GroupNode {
  return mapTree(root, fn) as GroupNode;
}

export function findNode(root: EditorNode, id: string): EditorNode | null {
  if (root.id === id) return root;
  if (root.type !== "group") return null;
  for (const child of root.children) {
    const found = findNode(child, id);
    if (found) return found;
  }
  return null;
}

/** The group holding `id`, and its index there. */
export function findParent(root: GroupNode, id: string): { parent: GroupNode; index: number } | null {
  const index = root.children.findIndex((c) => c.id === id);
  if (index >= 0) return { parent: root, index };
  for (const child of root.children) {
    if (child.type === "group") {
      const found = findParent(child, id);
      if (found) return found;
    }
  }
  return null;
}

export function addChild(root: GroupNode, parentId: string, node: EditorNode): GroupNode {
  return mapGroup(root, (n) => (n.id === parentId && n.type === "group" ? { ...n, children: [...n.children, node] } : n));
}

export function removeNode(root: GroupNode, id: string): GroupNode {
  if (root.id === id) return root;
  return mapGroup(root, (n) => (n.type === "group" ? { ...n, children: n.children.filter((c) => c.id !== id) } : n));
}

/** Move a node within its group from one index to another (what drag and drop does). */
export function moveWithin(root: GroupNode, parentId: string, from: number, to: number): GroupNode {
  return mapGroup(root, (n) => {
    if (n.id !== parentId || n.type !== "group" || from === to) return n;
    if (from < 0 || to < 0 || from >= n.children.length || to >= n.children.length) return n;
    const children = [...n.children];
    const [moved] = children.splice(from, 1) as [EditorNode];
    children.splice(to, 0, moved);
    return { ...n, children };
  });
}

/** Move a node one place up (-1) or down (+1) in its group (what the move buttons do). */
export function moveBy(root: GroupNode, id: string, delta: -1 | 1): GroupNode {
  const place = findParent(root, id);
  if (!place) return root;
  return moveWithin(root, place.parent.id, place.index, place.index + delta);
}

export function updateNode(root: GroupNode, id: string, fn: (n: EditorNode) => EditorNode): GroupNode {
  return mapGroup(root, (n) => (n.id === id ? fn(n) : n));
}

export function toggleNegation(root: GroupNode, id: string): GroupNode {
  return updateNode(root, id, (n) => ({ ...n, negated: !n.negated }));
}

export function setGroupOp(root: GroupNode, id: string, op: "and" | "or"): GroupNode {
  return updateNode(root, id, (n) => (n.type === "group" ? { ...n, op } : n));
}

export function updateLeaf(root: GroupNode, id: string, fn: (leaf: Leaf) => Leaf): GroupNode {
  return updateNode(root, id, (n) => (n.type === "leaf" ? { ...n, leaf: fn(n.leaf) } : n));
}

/** Wrap a condition in a group of its own (to combine it with others by the other operator). */
export function wrapInGroup(root: GroupNode, id: string): GroupNode {
  const place = findParent(root, id);
  if (!place) return root;
  const { parent, index } = place;
  const children = [...parent.children];
  children[index] = newGroup(parent.op === "and" ? "or" : "and", [parent.children[index]]);
  // Replace the parent only (mapping the whole tree would find the wrapped node again inside its new group).
  return parent.id === root.id ? { ...root, children } : updateNode(root, parent.id, () => ({ ...parent, children }));
}

/** The value type a score is compared as. */
export function scoreValueType(score: string): ValueType {
  return (TEXT_SCORES as readonly string[]).includes(score) ? "string" : "number";
}

/** Human numbering of nodes for labels: the root's children are 1, 2, 3; theirs 2.1, 2.2 … */
export function nodeNumbers(root: GroupNode): Map<string, string> {
  const numbers = new Map<string, string>();
  const visit = (group: GroupNode, prefix: string): void => {
    group.children.forEach((child, i) => {
      const number = prefix ? `${prefix}.${i + 1}` : `${i + 1}`;
      numbers.set(child.id, number);
      if (child.type === "group") visit(child, number);
    });
  };
  visit(root, "");
  return numbers;
}
