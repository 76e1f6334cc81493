// The campaign editor: name, channel and goal; audience with its live size; variants with their live preview;
// delivery and measurement. Checks what it can before sending; the API's 422 fields land next to their inputs.
import { Alert, Button, Grid, Group, Select, Stack, TextInput } from "@mantine/core";
import { IconPlus } from "@tabler/icons-react";
import { useState } from "react";

import { errorMessage, fieldErrors } from "../../../api/errors";
import { SegmentPickers } from "./AudienceFields";
import { DeliveryFields } from "./DeliveryFields";
import { VariantFields } from "./VariantFields";
import { EMPTY_VARIANT, validate, type CampaignValues } from "./values";

const NEXT_NAMES = "ABCDEFGHIJ";

export function CampaignForm({
  initial,
  campaignId,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial: CampaignValues;
  campaignId?: string;
  submitLabel: string;
  onSubmit: (values: CampaignValues) => Promise<unknown>;
  onCancel: () => void;
}) {
  const [values, setValues] = useState(initial);
  const [attempted, setAttempted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const set = (patch: Partial<CampaignValues>) => setValues((v) => ({ ...v, ...patch }));
  const local = attempted ? validate(values) : {};
  const server = mapServerFields(fieldErrors(saveError));
  const errors = { ...server, ...local };
  const creating = !campaignId;
  const submit = async () => {
    setAttempted(true);
    if (Object.keys(validate(values)).length) return;
    setSaving(true);
    setSaveError(null);
    try {
      await onSubmit(values);
    } catch (error) {
      setSaveError(error);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Stack gap="md">
        <Grid>
          <Grid.Col span={{ base: 12, md: 5 }}>
            <TextInput label="Name" required value={values.name} onChange={(e) => set({ name: e.currentTarget.value })} error={errors.name} />
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 3 }}>
            <Select
              label="Channel"
              data={[
                { value: "email", label: "Email" },
                { value: "audience_export", label: "Audience export" },
                { value: "webhook", label: "Webhook" },
              ]}
              value={values.channel}
              onChange={(v) => set({ channel: (v) ?? "email" })}
              allowDeselect={false}
              disabled={!creating}
            />
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 4 }}>
            <TextInput label="Goal event" required value={values.goalEvent} onChange={(e) => set({ goalEvent: e.currentTarget.value })} error={errors.goalEvent} />
          </Grid.Col>
        </Grid>
        {values.channel !== "email" ? (
          <TextInput
            label="Webhook URL"
            description={values.channel === "webhook" ? "Each recipient is posted here" : "Optional: each export is pushed here"}
            value={values.webhookUrl}
            onChange={(e) => set({ webhookUrl: e.currentTarget.value })}
            error={errors.webhookUrl}
            required={values.channel === "webhook"}
          />
        ) : null}
        <SegmentPickers
          target={values.targetSegments}
          exclude={values.excludeSegments}
          onTarget={(targetSegments) => set({ targetSegments })}
          onExclude={(excludeSegments) => set({ excludeSegments })}
          targetError={errors.targetSegments}
        />
        {values.variants.map((variant, i) => (
          <VariantFields
            key={variant.id ?? `new-${i}`}
            index={i}
            variant={variant}
            errors={errors}
            email={values.channel === "email"}
            segmentId={values.targetSegments[0]}
            campaignId={campaignId}
            onChange={(next) => set({ variants: values.variants.map((v, j) => (j === i ? next : v)) })}
            onRemove={values.variants.length > 1 ? () => set({ variants: values.variants.filter((_, j) => j !== i) }) : undefined}
          />
        ))}
        {values.variants.length < 10 ? (
          <Button
            variant="default"
            leftSection={<IconPlus size={16} aria-hidden />}
            w="fit-content"
            onClick={() => {
              const last = values.variants[values.variants.length - 1] ?? EMPTY_VARIANT;
              const name = [...NEXT_NAMES].find((n) => !values.variants.some((v) => v.name === n)) ?? `V${values.variants.length + 1}`;
              set({ variants: [...values.variants, { name, weight: 1, subject: last.subject, body: last.body }] });
            }}
          >
            Add a variant
          </Button>
        ) : null}
        <DeliveryFields values={values} set={set} errors={errors} creating={creating} />
        {saveError ? (
          <Alert color="red" variant="light" role="alert" title="Not saved">
            {errorMessage(saveError)}
          </Alert>
        ) : null}
        <Group>
          <Button type="submit" loading={saving}>
            {submitLabel}
          </Button>
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The API names fields as the body does (goal_event, variants.0.name); the form as its values. */
function mapServerFields(fields: Record<string, string>): Record<string, string> {
  const names: Record<string, string> = { goal_event: "goalEvent", target_segments: "targetSegments", webhook_url: "webhookUrl", name: "name" };
  const out: Record<string, string> = {};
  for (const [field, reason] of Object.entries(fields)) out[names[field] ?? field] = reason;
  return out;
}
