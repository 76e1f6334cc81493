// The funnel builder (POST /v1/journeys/funnel): 2–10 ordered steps, each an event or a page, within a window of
// hours, optionally for a segment; the people at each step and the conversion between steps, as the API gives them.
import { ActionIcon, Autocomplete, Button, Group, NumberInput, Paper, SegmentedControl, Stack, Table, Text, Title } from "@mantine/core";
import { IconPlus, IconTrash } from "@tabler/icons-react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { ApiError, errorMessage } from "../../api/errors";
import { runFunnelMutation } from "../../client/profiles/@tanstack/react-query.gen";
import type { FunnelRead, FunnelStepIn } from "../../client/profiles/types.gen";
import { listEventNamesOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import { BarChart } from "../../components/charts";
import { formatCount, formatPercent } from "../../lib/format";

export interface StepDraft {
  kind: "event" | "page";
  value: string;
}

const MIN_STEPS = 2;
const MAX_STEPS = 10;

/** The request's steps; null while a step is empty. */
export function stepsOf(drafts: StepDraft[]): FunnelStepIn[] | null {
  if (drafts.some((d) => !d.value.trim())) return null;
  return drafts.map((d) => (d.kind === "event" ? { event: d.value.trim() } : { page: d.value.trim() }));
}

const stepName = (s: { event: string | null; page: string | null }) => s.event ?? s.page ?? "";

/** Chart rows: the people at each step, as the API counts them. */
export function funnelChartData(funnel: FunnelRead) {
  return funnel.steps.map((s) => ({ step: `${s.step}. ${stepName(s)}`, People: s.people }));
}

export function FunnelResult({ funnel }: { funnel: FunnelRead }) {
  return (
    <Stack gap="md">
      <Text size="sm" data-testid="funnel-overall">
        Overall conversion <strong>{formatPercent(funnel.overall_conversion, 2)}</strong> within {formatCount(funnel.window_hours)} h
      </Text>
      <BarChart h={240} data={funnelChartData(funnel)} dataKey="step" series={[{ name: "People", color: "blue.6" }]} valueFormatter={(v) => formatCount(v)} role="figure" aria-label="People at each funnel step" />
      <Table aria-label="Funnel steps" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Step</Table.Th>
            <Table.Th ta="right">People</Table.Th>
            <Table.Th ta="right">From the previous step</Table.Th>
            <Table.Th ta="right">From the first step</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {funnel.steps.map((s) => (
            <Table.Tr key={s.step} data-testid={`funnel-step-${s.step}`}>
              <Table.Th scope="row">{s.step}. {s.page ? `page ${s.page}` : s.event}</Table.Th>
              <Table.Td ta="right" className="tabular">{formatCount(s.people)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatPercent(s.conversion_from_previous, 1)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatPercent(s.conversion_from_first, 1)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

function StepRow({ index, step, events, onChange, onRemove }: { index: number; step: StepDraft; events: string[]; onChange: (s: StepDraft) => void; onRemove?: () => void }) {
  const label = `Step ${index + 1}`;
  return (
    <Group align="flex-end" role="group" aria-label={label}>
      <SegmentedControl aria-label={`${label} kind`} value={step.kind} onChange={(v) => onChange({ ...step, kind: v })} data={[{ value: "event", label: "Event" }, { value: "page", label: "Page" }]} />
      <Autocomplete
        label={`${label}: ${step.kind === "event" ? "event name" : "page path"}`}
        placeholder={step.kind === "event" ? "Order Completed" : "/checkout"}
        data={step.kind === "event" ? events : []}
        value={step.value}
        onChange={(value) => onChange({ ...step, value })}
        w={280}
      />
      {onRemove ? (
        <ActionIcon variant="subtle" color="gray" onClick={onRemove} aria-label={`Remove step ${index + 1}`}>
          <IconTrash size={16} aria-hidden />
        </ActionIcon>
      ) : null}
    </Group>
  );
}

export function FunnelBuilder({ window: range, segmentId }: { window: { from?: string; to?: string }; segmentId: string | null }) {
  const [drafts, setDrafts] = useState<StepDraft[]>([{ kind: "page", value: "/" }, { kind: "event", value: "Order Completed" }]);
  const [hours, setHours] = useState<number>(72);
  const events = useQuery({ ...listEventNamesOptions(), staleTime: 300_000 });
  const names = (events.data?.names ?? []).map((n) => n.name);
  const run = useMutation(runFunnelMutation());
  const steps = stepsOf(drafts);
  const edit = (i: number, s: StepDraft) => setDrafts(drafts.map((d, j) => (j === i ? s : d)));
  return (
    <Stack gap="md">
      <Paper withBorder p="md" component="form" aria-label="Funnel steps to run" onSubmit={(e) => { e.preventDefault(); if (steps) run.mutate({ body: { steps, window_hours: hours, ...range, segment_id: segmentId } }); }}>
        <Stack gap="sm">
          {drafts.map((d, i) => (
            <StepRow key={i} index={i} step={d} events={names} onChange={(s) => edit(i, s)} onRemove={drafts.length > MIN_STEPS ? () => setDrafts(drafts.filter((_, j) => j !== i)) : undefined} />
          ))}
          <Group align="flex-end">
            <Button variant="light" leftSection={<IconPlus size={16} aria-hidden />} disabled={drafts.length >= MAX_STEPS} onClick={() => setDrafts([...drafts, { kind: "event", value: "" }])}>
              Add step
            </Button>
            <NumberInput label="Window (hours)" min={1} max={2160} value={hours} onChange={(v) => setHours(typeof v === "number" ? v : 72)} w={160} error={run.error instanceof ApiError ? run.error.fields.find((f) => f.field.endsWith("window_hours"))?.reason : undefined} />
            <Button type="submit" disabled={!steps} loading={run.isPending}>Run funnel</Button>
          </Group>
        </Stack>
      </Paper>
      {run.isError ? <Text c="red" size="sm" role="alert">{errorMessage(run.error)}</Text> : null}
      {run.data ? (
        <Paper withBorder p="md" component="section" aria-label="Funnel">
          <Title order={3} size="h5" mb="sm">Funnel</Title>
          <FunnelResult funnel={run.data} />
        </Paper>
      ) : null}
    </Stack>
  );
}
