// Holdout, schedule, frequency cap, attribution and the A/B test.
import { Group, NumberInput, Paper, SegmentedControl, Select, Stack, Switch, Text, TextInput, Title } from "@mantine/core";

import { ATTRIBUTION_MODELS } from "../Attribution";
import type { CampaignValues } from "./values";

type Set = (patch: Partial<CampaignValues>) => void;

const num = (v: string | number, fallback: number) => (typeof v === "number" ? v : Number(v) || fallback);

export function DeliveryFields({ values, set, errors, creating }: { values: CampaignValues; set: Set; errors: Record<string, string>; creating: boolean }) {
  return (
    <Paper withBorder p="md" component="fieldset" aria-label="Delivery and measurement">
      <Stack gap="sm">
        <Title order={3} size="h5">
          Delivery and measurement
        </Title>
        <NumberInput
          label="Holdout"
          description="Share of the audience that receives nothing, to measure lift against"
          suffix="%"
          min={0}
          max={90}
          value={values.holdoutPercent}
          onChange={(v) => set({ holdoutPercent: num(v, 0) })}
          w={260}
        />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="schedule-label">
            Schedule
          </Text>
          <SegmentedControl
            aria-labelledby="schedule-label"
            data={[
              { value: "now", label: "Now" },
              { value: "at", label: "At a time" },
              { value: "on_entry", label: "On segment entry" },
            ]}
            value={values.scheduleType}
            onChange={(v) => set({ scheduleType: v })}
            w="fit-content"
          />
          {values.scheduleType === "at" ? (
            <TextInput type="datetime-local" label="Send at" value={values.scheduleAt.slice(0, 16)} onChange={(e) => set({ scheduleAt: e.currentTarget.value })} error={errors.scheduleAt} w={260} />
          ) : null}
        </Stack>
        <Switch label="Frequency cap" checked={values.capOn} onChange={(e) => set({ capOn: e.currentTarget.checked })} />
        {values.capOn ? (
          <Group>
            <NumberInput label="At most (sends)" min={1} max={1000} value={values.capMax} onChange={(v) => set({ capMax: num(v, 1) })} w={160} />
            <NumberInput label="In (days)" min={1} max={365} value={values.capDays} onChange={(v) => set({ capDays: num(v, 1) })} w={160} />
          </Group>
        ) : null}
        <Group>
          <Select
            label="Attribution model"
            data={ATTRIBUTION_MODELS.map((m) => ({ value: m.value, label: m.label }))}
            value={values.attributionModel}
            onChange={(v) => set({ attributionModel: (v) ?? "last_touch" })}
            allowDeselect={false}
            w={200}
          />
          <NumberInput label="Window (days)" min={1} max={90} value={values.windowDays} onChange={(v) => set({ windowDays: num(v, 7) })} w={160} />
        </Group>
        <Switch
          label="A/B test: send to a test share first, then the winner to the rest"
          checked={values.abOn}
          onChange={(e) => set({ abOn: e.currentTarget.checked })}
          disabled={!creating}
          error={errors.abOn}
        />
        {values.abOn ? (
          <Group>
            <NumberInput label="Test share" suffix="%" min={1} max={99} value={values.abTestPercent} onChange={(v) => set({ abTestPercent: num(v, 20) })} w={140} disabled={!creating} />
            <NumberInput label="Wait (hours)" min={0} max={720} value={values.abWaitHours} onChange={(v) => set({ abWaitHours: num(v, 4) })} w={140} disabled={!creating} />
            <Select
              label="Winner by"
              data={[
                { value: "open_rate", label: "Open rate" },
                { value: "click_rate", label: "Click rate" },
                { value: "conversion_rate", label: "Conversion rate" },
              ]}
              value={values.abMetric}
              onChange={(v) => set({ abMetric: (v) ?? "click_rate" })}
              allowDeselect={false}
              w={180}
              disabled={!creating}
            />
          </Group>
        ) : null}
      </Stack>
    </Paper>
  );
}
