// The inputs of one leaf: what is compared (trait, computed trait, score, event, segment), how, and with what.
// Each input shows the error segmentation (or the builder's own check) gave for its field.
import { Autocomplete, Group, NumberInput, Select, TagsInput, TextInput } from "@mantine/core";
import { useMemo } from "react";

import {
  BOUNDS,
  BOUND_LABELS,
  CLUSTER_OPS,
  FIELD_OPS,
  OP_LABELS,
  SCORES,
  SCORE_LABELS,
  type FieldOp,
} from "../rules";
import { useEventSuggestions, useKeySuggestions, useRfmNames, useSegments, useValueSuggestions } from "../suggestions";
import { useBuilder } from "./SegmentBuilder";
import { scoreValueType, updateLeaf, type EventLeaf, type FieldLeaf, type Leaf, type LeafNode, type SegmentLeaf, type ValueType } from "./tree";

type Errors = Record<string, string>;

export function LeafFields({ node, errors }: { node: LeafNode; errors: Errors }) {
  const { edit } = useBuilder();
  const change = (patch: Partial<Leaf>) => edit((r) => updateLeaf(r, node.id, (leaf) => ({ ...leaf, ...patch }) as Leaf));
  const leaf = node.leaf;
  switch (leaf.kind) {
    case "trait":
    case "computed":
    case "score":
      return <FieldLeafFields leaf={leaf} errors={errors} change={change} />;
    case "event":
      return <EventLeafFields leaf={leaf} errors={errors} change={change} />;
    case "segment":
      return <SegmentLeafFields leaf={leaf} errors={errors} change={change} />;
  }
}

interface FieldsProps<L> {
  leaf: L;
  errors: Errors;
  change: (patch: Partial<L>) => void;
}

const VALUE_TYPES: { value: ValueType; label: string }[] = [
  { value: "string", label: "Text" },
  { value: "number", label: "Number" },
  { value: "boolean", label: "Yes / no" },
];

function opsFor(leaf: FieldLeaf): FieldOp[] {
  if (leaf.kind === "score" && leaf.key === "cluster") return [...CLUSTER_OPS];
  if (leaf.valueType === "boolean") return ["eq", "neq", "exists", "not_exists"];
  if (leaf.valueType === "number") return FIELD_OPS.filter((op) => op !== "contains" && op !== "starts_with");
  return [...FIELD_OPS];
}

function KeyInput({ leaf, errors, change }: FieldsProps<FieldLeaf>) {
  const source = leaf.kind === "trait" ? "traits" : "computed";
  const suggestions = useKeySuggestions(source, leaf.kind === "score" ? "" : leaf.key);
  if (leaf.kind === "score") {
    return (
      <Select
        label="Score"
        data={SCORES.map((s) => ({ value: s, label: SCORE_LABELS[s] }))}
        value={leaf.key}
        allowDeselect={false}
        error={errors.score}
        w={230}
        onChange={(key) => {
          if (!key) return;
          const valueType = scoreValueType(key);
          const op = key === "cluster" && !CLUSTER_OPS.includes(leaf.op) ? "eq" : leaf.op;
          change({ key, valueType, op, value: "", values: [], low: "", high: "" });
        }}
      />
    );
  }
  return (
    <Autocomplete
      label={leaf.kind === "trait" ? "Trait" : "Computed trait"}
      placeholder={leaf.kind === "trait" ? "e.g. city" : "e.g. orders"}
      data={suggestions.map((s) => s.value)}
      value={leaf.key}
      onChange={(key) => change({ key })}
      error={errors[leaf.kind]}
      w={210}
      limit={30}
    />
  );
}

function ValueInputs({ leaf, errors, change }: FieldsProps<FieldLeaf>) {
  const rfmNames = useRfmNames();
  const segments = useSegments();
  const clusters = useMemo(
    () => segments.filter((s) => s.kind === "cluster").map((s) => ({ value: s.id, label: s.name })),
    [segments],
  );
  const textSuggestions = useValueSuggestions(leaf.key, leaf.value, leaf.kind === "trait" && leaf.valueType === "string");
  if (leaf.op === "exists" || leaf.op === "not_exists") return null;
  const isCluster = leaf.kind === "score" && leaf.key === "cluster";
  const isRfm = leaf.kind === "score" && leaf.key === "rfm_segment";
  const options = isCluster ? clusters : isRfm ? rfmNames.map((n) => ({ value: n, label: n })) : textSuggestions;

  if (leaf.op === "in" || leaf.op === "not_in") {
    return (
      <TagsInput
        label="Values"
        description="Press Enter after each"
        data={isCluster ? clusters.map((c) => c.value) : options.map((o) => o.value)}
        value={leaf.values}
        onChange={(values) => change({ values })}
        error={errors.value}
        miw={220}
        style={{ flex: 1 }}
        clearable
      />
    );
  }
  if (leaf.op === "between") {
    return (
      <Group gap="xs" align="flex-start" wrap="nowrap">
        <TextInput label="From" value={leaf.low} onChange={(e) => change({ low: e.currentTarget.value })} error={errors.value} w={110} inputMode={leaf.valueType === "number" ? "decimal" : undefined} />
        <TextInput label="To" value={leaf.high} onChange={(e) => change({ high: e.currentTarget.value })} w={110} inputMode={leaf.valueType === "number" ? "decimal" : undefined} />
      </Group>
    );
  }
  if (leaf.valueType === "boolean") {
    return (
      <Select
        label="Value"
        data={[
          { value: "true", label: "yes (true)" },
          { value: "false", label: "no (false)" },
        ]}
        value={leaf.value || null}
        onChange={(value) => change({ value: value ?? "" })}
        error={errors.value}
        w={140}
      />
    );
  }
  if (isCluster) {
    return <Select label="Cluster" data={clusters} value={leaf.value || null} onChange={(value) => change({ value: value ?? "" })} error={errors.value} searchable w={240} />;
  }
  // One input whether or not suggestions have arrived: swapping a text box for a suggesting one while the person types
  // would drop their focus and the keys in flight.
  return (
    <Autocomplete
      label="Value"
      data={options.map((o) => o.value)}
      value={leaf.value}
      onChange={(value) => change({ value })}
      error={errors.value}
      inputMode={leaf.valueType === "number" ? "decimal" : undefined}
      w={220}
      limit={30}
    />
  );
}

function FieldLeafFields(props: FieldsProps<FieldLeaf>) {
  const { leaf, errors, change } = props;
  const ops = opsFor(leaf);
  return (
    <Group gap="xs" align="flex-start" wrap="wrap">
      <KeyInput {...props} />
      <Select
        label="Condition"
        data={ops.map((op) => ({ value: op, label: OP_LABELS[op] }))}
        value={leaf.op}
        allowDeselect={false}
        onChange={(op) => op && change({ op: op })}
        error={errors.op}
        w={170}
      />
      {leaf.kind === "score" || leaf.op === "exists" || leaf.op === "not_exists" ? null : (
        <Select
          label="Compare as"
          data={VALUE_TYPES}
          value={leaf.valueType}
          allowDeselect={false}
          onChange={(t) => {
            const valueType = (t ?? "string");
            const op = opsFor({ ...leaf, valueType }).includes(leaf.op) ? leaf.op : "eq";
            change({ valueType, op, value: valueType === "boolean" ? "true" : leaf.value });
          }}
          w={120}
        />
      )}
      <ValueInputs {...props} />
    </Group>
  );
}

function EventLeafFields({ leaf, errors, change }: FieldsProps<EventLeaf>) {
  const events = useEventSuggestions();
  return (
    <Group gap="xs" align="flex-start" wrap="wrap">
      <Autocomplete
        label="Did the event"
        placeholder="e.g. Order Completed"
        data={events.map((e) => e.value)}
        value={leaf.event}
        onChange={(event) => change({ event })}
        error={errors.event}
        w={220}
        limit={40}
      />
      <Select
        label="How often"
        data={BOUNDS.map((b) => ({ value: b, label: BOUND_LABELS[b] }))}
        value={leaf.bound}
        allowDeselect={false}
        onChange={(bound) => bound && change({ bound: bound })}
        w={120}
      />
      <NumberInput
        label="Times"
        min={0}
        allowDecimal={false}
        value={leaf.count}
        onChange={(count) => change({ count: typeof count === "number" ? count : "" })}
        error={errors[leaf.bound]}
        w={90}
      />
      <NumberInput
        label="In the last (days)"
        min={1}
        max={90}
        allowDecimal={false}
        value={leaf.days}
        onChange={(days) => change({ days: typeof days === "number" ? days : "" })}
        error={errors.within_days}
        w={140}
      />
    </Group>
  );
}

function SegmentLeafFields({ leaf, errors, change }: FieldsProps<SegmentLeaf>) {
  const { excludeSegmentId } = useBuilder();
  const segments = useSegments();
  const data = segments.filter((s) => s.id !== excludeSegmentId).map((s) => ({ value: s.id, label: s.name }));
  if (leaf.segmentId && !data.some((d) => d.value === leaf.segmentId)) data.push({ value: leaf.segmentId, label: leaf.segmentId });
  return (
    <Select
      label="Is a member of"
      placeholder="Choose a segment"
      data={data}
      value={leaf.segmentId || null}
      onChange={(segmentId) => change({ segmentId: segmentId ?? "" })}
      error={errors.segment}
      searchable
      w={280}
      nothingFoundMessage="No segment by that name"
    />
  );
}
