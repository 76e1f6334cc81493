// The funnel per variant and for the holdout: sent → opened (human / machine) → clicked → converted, as a table and a
// grouped bar chart, both straight from the results' arms.
import { Table } from "@mantine/core";

import { ScrollTable } from "../../components/ScrollTable";
import { BarChart } from "../../components/charts";
import { formatCount, formatCurrency, formatPercent } from "../../lib/format";
import type { ArmReport, CampaignResults } from "./shapes";

export interface FunnelArm {
  name: string;
  arm: ArmReport;
}

export function funnelArms(results: CampaignResults): FunnelArm[] {
  const arms = results.variants.map((v) => ({ name: v.name, arm: v }));
  return results.holdout ? [...arms, { name: "Holdout", arm: results.holdout }] : arms;
}

const STEPS = [
  { key: "sent", label: "Sent" },
  { key: "human_opens", label: "Opened (human)" },
  { key: "machine_opens", label: "Opened (machine)" },
  { key: "clicks", label: "Clicked" },
  { key: "conversions", label: "Converted" },
] as const;

/** Chart rows: one per funnel step, one series per arm (values copied from the API, nothing computed). */
export function funnelChartData(arms: FunnelArm[]): Record<string, string | number>[] {
  return STEPS.map((step) => {
    const row: Record<string, string | number> = { step: step.label };
    for (const { name, arm } of arms) row[name] = arm[step.key];
    return row;
  });
}

const COLORS = ["blue.6", "grape.6", "teal.6", "orange.6", "cyan.6", "pink.6", "lime.6", "indigo.6", "yellow.6", "red.6"];

export function FunnelChart({ arms }: { arms: FunnelArm[] }) {
  return (
    <BarChart
      h={260}
      data={funnelChartData(arms)}
      dataKey="step"
      series={arms.map((a, i) => ({ name: a.name, color: a.name === "Holdout" ? "gray.6" : (COLORS[i % COLORS.length] ?? "blue.6") }))}
      withLegend
      valueFormatter={(v) => formatCount(v)}
      role="figure" aria-label="Funnel per variant and holdout"
    />
  );
}

export function FunnelTable({ arms }: { arms: FunnelArm[] }) {
  return (
    <ScrollTable minWidth={860} label="Funnel per arm">
      <Table aria-label="Funnel per arm" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Arm</Table.Th>
            <Table.Th ta="right">Assigned</Table.Th>
            <Table.Th ta="right">Sent</Table.Th>
            <Table.Th ta="right">Opened (human)</Table.Th>
            <Table.Th ta="right">Opened (machine)</Table.Th>
            <Table.Th ta="right">Clicked</Table.Th>
            <Table.Th ta="right">Converted</Table.Th>
            <Table.Th ta="right">Open rate</Table.Th>
            <Table.Th ta="right">Click rate</Table.Th>
            <Table.Th ta="right">Conversion rate</Table.Th>
            <Table.Th ta="right">Revenue</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {arms.map(({ name, arm }) => (
            <Table.Tr key={name} data-testid={`arm-${name}`}>
              <Table.Th scope="row">{name}</Table.Th>
              <Table.Td ta="right" className="tabular">{formatCount(arm.users)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(arm.sent)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(arm.human_opens)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(arm.machine_opens)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(arm.clicks)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(arm.conversions)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatPercent(arm.open_rate)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatPercent(arm.click_rate)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatPercent(arm.conversion_rate, 2)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCurrency(arm.revenue)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}
