// Lift against the holdout (relative and absolute, conversion rate and revenue per user, 95% intervals, p-values,
// incremental conversions and revenue) and the variants compared with the first (chance to beat it, risk, SRM).
import { Alert, SimpleGrid, Stack, Table, Text } from "@mantine/core";
import { IconAlertTriangle } from "@tabler/icons-react";

import { ScrollTable } from "../../components/ScrollTable";
import { StatCard } from "../../components/StatCard";
import { formatCurrency, formatInterval, formatNumber, formatPercent, formatSignedPercent } from "../../lib/format";
import { LiftChart, type LiftRow } from "./LiftChart";
import { isComputable, type CampaignResults, type VersusHoldout } from "./shapes";

const relative = (v: number) => formatSignedPercent(v, 1);
const points = (v: number) => formatSignedPercent(v, 2);
const money = (v: number) => formatCurrency(v);

export function liftRows(versus: VersusHoldout): LiftRow[] {
  return [
    { label: "Conversion rate, relative", lift: versus.conversion_rate.relative, format: relative },
    { label: "Conversion rate, absolute", lift: versus.conversion_rate.absolute, format: points },
    { label: "Revenue per user, relative", lift: versus.revenue_per_user.relative, format: relative },
    { label: "Revenue per user, absolute", lift: versus.revenue_per_user.absolute, format: money },
  ];
}

export function HoldoutLift({ results }: { results: CampaignResults }) {
  const versus = results.versus_holdout;
  if (!versus) return <Text size="sm" c="dimmed">This campaign has no holdout: there is nothing to measure lift against.</Text>;
  if (!isComputable(versus)) return <Text size="sm" c="dimmed">Lift is not computable yet: {versus.reason}.</Text>;
  return (
    <Stack gap="sm">
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <StatCard label="Incremental conversions" value={formatNumber(versus.incremental_conversions, 1)} hint="beyond the holdout's rate" />
        <StatCard label="Incremental revenue" value={formatCurrency(versus.incremental_revenue)} hint="beyond the holdout's revenue per user" />
      </SimpleGrid>
      <LiftChart title="Lift against the holdout with 95% intervals" rows={liftRows(versus)} />
    </Stack>
  );
}

export function VariantsCompared({ results }: { results: CampaignResults }) {
  const names = new Map(results.variants.map((v) => [v.variant_id, v.name]));
  const srm = results.sample_ratio;
  return (
    <Stack gap="sm">
      {isComputable(srm) && srm.mismatch ? (
        <Alert color="orange" icon={<IconAlertTriangle aria-hidden />} title="Sample ratio mismatch" role="alert">
          The arms' sizes do not match their configured shares (p = {formatNumber(srm.p_value, 4)}): assignment or delivery
          may be broken, so do not trust these comparisons until it is explained.
        </Alert>
      ) : null}
      {isComputable(srm) ? (
        <Text size="sm" c="dimmed">
          Sample-ratio check: p = {formatNumber(srm.p_value, 4)} ({srm.mismatch ? "mismatch" : "no mismatch"}).
        </Text>
      ) : (
        <Text size="sm" c="dimmed">Sample-ratio check: {srm.reason}.</Text>
      )}
      {results.between_variants.length ? (
        <ScrollTable minWidth={640} label="Variants against the control">
          <Table aria-label="Variants against the control" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Variant</Table.Th>
                <Table.Th ta="right">Conversion lift</Table.Th>
                <Table.Th ta="right">95% interval</Table.Th>
                <Table.Th ta="right">p-value</Table.Th>
                <Table.Th ta="right">Chance to beat control</Table.Th>
                <Table.Th ta="right">Risk (variant)</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {results.between_variants.map((b) => (
                <Table.Tr key={b.variant_id}>
                  <Table.Th scope="row">
                    {names.get(b.variant_id) ?? b.variant_id} vs {names.get(b.control) ?? b.control}
                  </Table.Th>
                  <Table.Td ta="right" className="tabular">{b.conversion_rate.computable ? relative(b.conversion_rate.lift) : "–"}</Table.Td>
                  <Table.Td ta="right" className="tabular">
                    {b.conversion_rate.computable ? formatInterval(b.conversion_rate.ci_low, b.conversion_rate.ci_high, relative) : b.conversion_rate.reason}
                  </Table.Td>
                  <Table.Td ta="right" className="tabular">{b.conversion_rate.computable ? formatNumber(b.conversion_rate.p_value, 3) : "–"}</Table.Td>
                  <Table.Td ta="right" className="tabular">{formatPercent(b.chance_to_beat_control)}</Table.Td>
                  <Table.Td ta="right" className="tabular">{formatNumber(b.risk.variant, 4)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      ) : (
        <Text size="sm" c="dimmed">One variant: nothing to compare.</Text>
      )}
    </Stack>
  );
}
