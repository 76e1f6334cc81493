// The retention matrix as a heat map (a table whose cells are shaded by their share, so it reads without colour too),
// retention curves of the latest cohorts, and churn per segment. Every figure is the API's, formatted.
import { Table, Text } from "@mantine/core";
import { useQueries } from "@tanstack/react-query";

import { getRetentionOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import type { CohortRead, SegmentRead } from "../../client/segmentation/types.gen";
import { LineChart } from "../../components/charts";
import { ErrorState, Loading } from "../../components/QueryState";
import { formatCount, formatPercent } from "../../lib/format";

const CURVES = 6;
const COLORS = ["blue.6", "teal.6", "orange.6", "grape.6", "red.6", "cyan.7"];

/** Background of a cell: blue, darker with the share relative to the highest return share (month 0 is always 100%,
 * so it is left grey and does not wash the rest out); text turns white only where that keeps a 4.5:1 contrast. */
function shade(share: number, top: number, first: boolean): { background: string; color: string } {
  if (first) return { background: "var(--mantine-color-gray-2)", color: "var(--mantine-color-black)" };
  const level = Math.min(9, Math.max(0, Math.round((share / (top || 1)) * 8) + 1));
  return { background: `var(--mantine-color-blue-${level})`, color: level >= 8 ? "white" : "var(--mantine-color-black)" };
}

export function CohortHeatmap({ cohorts }: { cohorts: CohortRead[] }) {
  const months = Math.max(...cohorts.map((c) => c.retained.length));
  const top = Math.max(0, ...cohorts.flatMap((c) => c.retained.slice(1)));
  return (
    <Table.ScrollContainer minWidth={Math.max(480, 120 + months * 56)}>
      <Table fz="xs" aria-label="Retention by cohort" withColumnBorders verticalSpacing={4} horizontalSpacing={6}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>First order</Table.Th>
            <Table.Th ta="right">Customers</Table.Th>
            {Array.from({ length: months }, (_, k) => (
              <Table.Th key={k} ta="center">
                {k === 0 ? "Month 0" : `+${k}`}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {cohorts.map((c) => (
            <Table.Tr key={c.month} data-testid={`cohort-${c.month}`}>
              <Table.Th fw={500}>{c.month}</Table.Th>
              <Table.Td ta="right" className="tabular">
                {formatCount(c.customers)}
              </Table.Td>
              {Array.from({ length: months }, (_, k) => {
                const share = c.retained[k];
                return share === undefined ? (
                  <Table.Td key={k} />
                ) : (
                  <Table.Td key={k} ta="center" className="tabular" style={shade(share, top, k === 0)}>
                    {formatPercent(share, 0)}
                  </Table.Td>
                );
              })}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** Rows of the curves chart: one per month offset, one column per cohort (the latest CURVES with a month +1). */
export function curveRows(cohorts: CohortRead[]): { cohorts: string[]; rows: Record<string, number | string>[] } {
  const shown = cohorts.filter((c) => c.retained.length > 1).slice(-CURVES);
  const months = Math.max(0, ...shown.map((c) => c.retained.length));
  const rows = Array.from({ length: months }, (_, k) => {
    const row: Record<string, number | string> = { month: `+${k}` };
    for (const c of shown) if (c.retained[k] !== undefined) row[c.month] = c.retained[k];
    return row;
  });
  return { cohorts: shown.map((c) => c.month), rows };
}

export function RetentionCurves({ cohorts }: { cohorts: CohortRead[] }) {
  const { cohorts: names, rows } = curveRows(cohorts);
  if (!names.length) return <Text size="sm" c="dimmed">No cohort is a month old yet.</Text>;
  return (
    <LineChart
      h={260}
      data={rows}
      dataKey="month"
      series={names.map((name, i) => ({ name, color: COLORS[i % COLORS.length] ?? "blue.6" }))}
      withLegend
      curveType="linear"
      yAxisProps={{ domain: [0, 1], tickFormatter: (v: number) => formatPercent(v, 0) }}
      valueFormatter={(v) => formatPercent(v)}
      role="figure" aria-label="Retention curves of the latest cohorts (the same figures are in the table above)"
    />
  );
}

export function ChurnBySegment({ segments, threshold }: { segments: SegmentRead[]; threshold: number }) {
  const results = useQueries({
    queries: segments.map((s) => ({ ...getRetentionOptions({ query: { segment_id: s.id, churn_threshold: threshold } }), staleTime: 60_000 })),
  });
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table fz="sm" aria-label="Churn by segment" verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Segment</Table.Th>
            <Table.Th ta="right">Customers</Table.Th>
            <Table.Th ta="right">Repeat purchase rate</Table.Th>
            <Table.Th ta="right">Scored</Table.Th>
            <Table.Th ta="right">Churned</Table.Th>
            <Table.Th ta="right">Churn</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {segments.map((s, i) => {
            const r = results[i];
            if (!r || r.isPending)
              return (
                <Table.Tr key={s.id}>
                  <Table.Td>{s.name}</Table.Td>
                  <Table.Td colSpan={5}>
                    <Loading label="Counting" />
                  </Table.Td>
                </Table.Tr>
              );
            if (r.isError)
              return (
                <Table.Tr key={s.id}>
                  <Table.Td>{s.name}</Table.Td>
                  <Table.Td colSpan={5}>
                    <ErrorState error={r.error} onRetry={() => void r.refetch()} />
                  </Table.Td>
                </Table.Tr>
              );
            const d = r.data;
            return (
              <Table.Tr key={s.id} data-testid={`churn-${s.id}`}>
                <Table.Td>{s.name}</Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatCount(d.customers)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatPercent(d.repeat_purchase_rate)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatCount(d.churn.scored)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatCount(d.churn.churned)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatPercent(d.churn.share)}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
