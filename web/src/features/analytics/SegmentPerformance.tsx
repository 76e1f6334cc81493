// Segment performance (GET /v1/segments-performance): each segment with a goal, the rate each campaign that
// targeted it measured among those it sent to, and whether the goal is met, as the API decides it.
import { Badge, Paper, Stack, Table, Text, Title } from "@mantine/core";

import type { PerformanceGoal, SegmentPerformance } from "../../client/campaigns/types.gen";
import { AnchorLink } from "../../components/links";
import { formatCount, formatCurrency, formatPercent } from "../../lib/format";

const METRIC_LABEL: Record<PerformanceGoal["metric"], string> = {
  conversion_rate: "conversion rate",
  click_rate: "click rate",
  open_rate: "open rate",
  revenue_per_recipient: "revenue per recipient",
};

export function formatMetric(metric: PerformanceGoal["metric"], value: number | null | undefined): string {
  return metric === "revenue_per_recipient" ? formatCurrency(value) : formatPercent(value, 2);
}

export function describeGoal(goal: PerformanceGoal): string {
  const bounds = [
    goal.min !== null && goal.min !== undefined ? `at least ${formatMetric(goal.metric, goal.min)}` : null,
    goal.max !== null && goal.max !== undefined ? `at most ${formatMetric(goal.metric, goal.max)}` : null,
  ].filter(Boolean);
  return `${METRIC_LABEL[goal.metric]} ${bounds.join(" and ")}`;
}

export function MetBadge({ met }: { met: boolean | null }) {
  if (met === null) return <Badge variant="outline" color="gray">not measured</Badge>;
  return met ? <Badge color="teal" variant="light">met</Badge> : <Badge color="red" variant="light">missed</Badge>;
}

function SegmentCard({ row }: { row: SegmentPerformance }) {
  return (
    <Paper withBorder p="md" component="section" aria-label={`Performance of ${row.name}`} data-testid={`performance-${row.segment_id}`}>
      <Stack gap="xs">
        <Title order={3} size="h5">
          <AnchorLink to="/segments/$segmentId" params={{ segmentId: row.segment_id }}>{row.name}</AnchorLink> <MetBadge met={row.met} />
        </Title>
        <Text size="sm" c="dimmed">Goal: {describeGoal(row.goal)}</Text>
        {row.campaigns.length === 0 ? (
          <Text size="sm" c="dimmed">No launched campaign has targeted this segment.</Text>
        ) : (
          <Table aria-label={`Campaigns targeting ${row.name}`} verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Campaign</Table.Th>
                <Table.Th ta="right">Recipients</Table.Th>
                <Table.Th ta="right">Measured {METRIC_LABEL[row.goal.metric]}</Table.Th>
                <Table.Th>Goal</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {row.campaigns.map((c) => (
                <Table.Tr key={c.campaign_id} data-testid={`performance-${row.segment_id}-${c.campaign_id}`}>
                  <Table.Th scope="row"><AnchorLink to="/campaigns/$campaignId" params={{ campaignId: c.campaign_id }}>{c.name}</AnchorLink></Table.Th>
                  <Table.Td ta="right" className="tabular">{formatCount(c.recipients)}</Table.Td>
                  <Table.Td ta="right" className="tabular">{formatMetric(row.goal.metric, c.value)}</Table.Td>
                  <Table.Td><MetBadge met={c.met} /></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Paper>
  );
}

export function SegmentPerformanceList({ rows }: { rows: SegmentPerformance[] }) {
  return (
    <Stack gap="md">
      {rows.map((row) => <SegmentCard key={row.segment_id} row={row} />)}
    </Stack>
  );
}
