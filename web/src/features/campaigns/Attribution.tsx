// Conversions and revenue credited to the campaign by an attribution model, switchable on the page: the API
// recomputes with `attribution_model` / `window_days`; the page only shows what it answers.
import { Group, NumberInput, Select, SimpleGrid, Stack, Text } from "@mantine/core";

import { StatCard } from "../../components/StatCard";
import { formatCurrency, formatNumber } from "../../lib/format";
import type { Attributed } from "./shapes";

export const ATTRIBUTION_MODELS = [
  { value: "last_touch", label: "Last touch" },
  { value: "first_touch", label: "First touch" },
  { value: "linear", label: "Linear" },
  { value: "position_based", label: "Position based" },
  { value: "time_decay", label: "Time decay" },
] as const;

export type AttributionModelName = (typeof ATTRIBUTION_MODELS)[number]["value"];

export interface AttributionChoice {
  model: AttributionModelName | null;
  windowDays: number | null;
}

export function Attribution({
  value,
  onChange,
  attributed,
}: {
  value: AttributionChoice;
  onChange: (next: AttributionChoice) => void;
  attributed: Attributed;
}) {
  return (
    <Stack gap="sm">
      <Group align="flex-end" gap="sm">
        <Select
          label="Attribution model"
          data={ATTRIBUTION_MODELS.map((m) => ({ value: m.value, label: m.label }))}
          value={value.model ?? attributed.model}
          onChange={(model) => onChange({ ...value, model: (model as AttributionModelName | null) ?? null })}
          allowDeselect={false}
          w={200}
        />
        <NumberInput
          label="Window (days)"
          min={1}
          max={90}
          value={value.windowDays ?? attributed.window_days}
          onChange={(v) => onChange({ ...value, windowDays: typeof v === "number" && v >= 1 && v <= 90 ? v : null })}
          w={140}
        />
      </Group>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <StatCard
          label="Attributed conversions"
          value={formatNumber(attributed.conversions, 2)}
          hint={`${ATTRIBUTION_MODELS.find((m) => m.value === attributed.model)?.label ?? attributed.model}, ${attributed.window_days}-day window`}
        />
        <StatCard label="Attributed revenue" value={formatCurrency(attributed.revenue)} />
      </SimpleGrid>
      <Text size="xs" c="dimmed">
        Credit shared with other campaigns that reached the same people, by the chosen model.
      </Text>
    </Stack>
  );
}
