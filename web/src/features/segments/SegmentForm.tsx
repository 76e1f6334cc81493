// A rule segment being created or edited: name, description, goal and the condition tree, with the live preview
// beside it. Problems the builder can see are shown on the first save; segmentation's 422 lands on the field or the
// node it names.
import { Alert, Button, Grid, Group, NumberInput, Paper, Select, Stack, Switch, Text, TextInput, Textarea } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useCallback, useMemo, useState } from "react";

import { ApiError, errorMessage, fieldErrors } from "../../api/errors";
import { WriteAccess } from "../../components/Access";
import type { SegmentGoal } from "../../client/segmentation/types.gen";
import { SegmentBuilder } from "./builder/SegmentBuilder";
import { checkTree, fromRule, locateErrors, toRule, type GroupNode, type NodeErrors } from "./builder/tree";
import type { Rule } from "./rules";
import { SegmentPreview } from "./SegmentPreview";

export interface SegmentDraft {
  name: string;
  description: string;
  definition: Rule;
  goal: SegmentGoal | null;
}

type Metric = SegmentGoal["metric"];

const METRICS: { value: Metric; label: string }[] = [
  { value: "conversion_rate", label: "Conversion rate" },
  { value: "click_rate", label: "Click rate" },
  { value: "open_rate", label: "Open rate" },
  { value: "revenue_per_recipient", label: "Revenue per recipient" },
];

const isRate = (metric: Metric) => metric !== "revenue_per_recipient";

interface FormValues {
  name: string;
  description: string;
  withGoal: boolean;
  metric: Metric;
  min: number | "";
  max: number | "";
}

function goalOf(values: FormValues): SegmentGoal | null {
  if (!values.withGoal) return null;
  const scale = isRate(values.metric) ? 100 : 1; // rates are typed as percentages
  return {
    metric: values.metric,
    min: values.min === "" ? null : values.min / scale,
    max: values.max === "" ? null : values.max / scale,
  };
}

function mergeErrors(...all: NodeErrors[]): NodeErrors {
  const out: NodeErrors = {};
  for (const errors of all) for (const [id, fields] of Object.entries(errors)) out[id] = { ...out[id], ...fields };
  return out;
}

export function SegmentForm({
  initial,
  segmentId,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial: SegmentDraft;
  segmentId?: string;
  submitLabel: string;
  onSubmit: (draft: SegmentDraft) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const [tree, setTree] = useState<GroupNode>(() => fromRule(initial.definition));
  const [attempted, setAttempted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [serverErrors, setServerErrors] = useState<NodeErrors>({});
  const [previewErrors, setPreviewErrors] = useState<NodeErrors>({});
  const goal = initial.goal;
  const rate = goal ? isRate(goal.metric) : true;
  const form = useForm<FormValues>({
    initialValues: {
      name: initial.name,
      description: initial.description,
      withGoal: goal !== null,
      metric: goal?.metric ?? "conversion_rate",
      min: goal?.min == null ? "" : goal.min * (rate ? 100 : 1),
      max: goal?.max == null ? "" : goal.max * (rate ? 100 : 1),
    },
    validate: {
      name: (v) => (v.trim() ? null : "Give the segment a name."),
      min: (v, values) => (values.withGoal && v === "" && values.max === "" ? "Set a minimum or a maximum." : null),
      max: (v, values) => (values.withGoal && v !== "" && values.min !== "" && v < values.min ? "Below the minimum." : null),
    },
  });
  const serialized = useMemo(() => toRule(tree), [tree]);
  const problems = useMemo(() => checkTree(tree), [tree]);
  const valid = Object.keys(problems).length === 0;
  const changeTree = useCallback((next: GroupNode) => {
    setTree(next);
    setServerErrors({});
  }, []);
  const errors = mergeErrors(attempted ? problems : {}, previewErrors, serverErrors);

  const submit = form.onSubmit(async (values) => {
    setAttempted(true);
    setSaveError(null);
    if (!valid) return;
    setSaving(true);
    const sent = serialized;
    try {
      await onSubmit({
        name: values.name.trim(),
        description: values.description.trim(),
        definition: sent.rule,
        goal: goalOf(values),
      });
    } catch (error) {
      setSaveError(error);
      if (error instanceof ApiError) {
        setServerErrors(locateErrors(fieldErrors(error, "definition"), sent.paths));
        const own = fieldErrors(error);
        form.setErrors({
          name: own.name,
          description: own.description,
          min: own["goal.min"] ?? own.goal,
          max: own["goal.max"],
        });
      }
    } finally {
      setSaving(false);
    }
  }, () => setAttempted(true));

  return (
    <form onSubmit={submit} noValidate>
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Stack gap="md">
            <Paper withBorder p="md">
              <Stack gap="sm">
                <TextInput label="Name" required maxLength={200} {...form.getInputProps("name")} />
                <Textarea label="Description" autosize minRows={1} maxLength={2000} {...form.getInputProps("description")} />
                <Switch label="Set a goal for campaigns aimed at this segment" {...form.getInputProps("withGoal", { type: "checkbox" })} />
                {form.values.withGoal ? (
                  <Group gap="sm" align="flex-start" wrap="wrap">
                    <Select label="Metric" data={METRICS} allowDeselect={false} w={220} {...form.getInputProps("metric")} />
                    <NumberInput
                      label="At least"
                      min={0}
                      suffix={isRate(form.values.metric) ? " %" : undefined}
                      decimalScale={isRate(form.values.metric) ? 2 : 2}
                      w={140}
                      {...form.getInputProps("min")}
                    />
                    <NumberInput
                      label="At most"
                      min={0}
                      suffix={isRate(form.values.metric) ? " %" : undefined}
                      decimalScale={2}
                      w={140}
                      {...form.getInputProps("max")}
                    />
                  </Group>
                ) : null}
              </Stack>
            </Paper>
            <SegmentBuilder value={tree} onChange={changeTree} errors={errors} excludeSegmentId={segmentId} />
            {saveError ? (
              <Alert color="red" variant="light" role="alert" title="Not saved">
                {errorMessage(saveError)}
              </Alert>
            ) : attempted && !valid ? (
              <Alert color="red" variant="light" role="alert">
                Some conditions are incomplete: they are marked above.
              </Alert>
            ) : null}
            <Group>
              <WriteAccess fallback={<Text size="sm" c="dimmed">Analysts can try conditions here; saving a segment needs the marketer role.</Text>}>
                <Button type="submit" loading={saving}>
                  {submitLabel}
                </Button>
              </WriteAccess>
              {onCancel ? (
                <Button variant="default" onClick={onCancel}>
                  Cancel
                </Button>
              ) : null}
            </Group>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <div style={{ position: "sticky", top: 72 }}>
            <SegmentPreview serialized={serialized} valid={valid} onErrors={setPreviewErrors} />
          </div>
        </Grid.Col>
      </Grid>
    </form>
  );
}
