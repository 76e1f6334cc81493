// The CLV model checked the way Fader, Hardie & Lee check it: fit on the orders up to a calibration end, then compare
// the repeat purchases it expects in the holdout period with those actually made, by number of calibration repeat
// purchases. Nothing is stored; the check runs when asked.
import { Button, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { DateInput } from "@mantine/dates";
import "@mantine/dates/styles.css";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { validateClvOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import type { ClvValidationRead } from "../../client/segmentation/types.gen";
import { BarChart } from "../../components/charts";
import { Freshness } from "../../components/Freshness";
import { QueryState } from "../../components/QueryState";
import { StatCard } from "../../components/StatCard";
import { formatCount, formatDate, formatNumber } from "../../lib/format";

export interface ValidationPeriod {
  calibration_end: string;
  holdout_end: string;
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Default period: a holdout of the last 26 weeks up to today. */
export function defaultPeriod(today = new Date()): ValidationPeriod {
  const start = new Date(today.getTime() - 182 * 86_400_000);
  return { calibration_end: isoDay(start), holdout_end: isoDay(today) };
}

export function ClvValidationView({ validation }: { validation: ClvValidationRead }) {
  const rows = validation.buckets.map((b) => ({ purchases: b.purchases, expected: b.expected, actual: b.actual }));
  return (
    <Stack gap="sm">
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        <StatCard label="Customers checked" value={formatCount(validation.customers)} hint={`ordered by ${formatDate(validation.calibration_end)}`} />
        <StatCard label="Expected repeat purchases" value={formatNumber(validation.expected_total, 0)} hint="in the holdout, by the fit" />
        <StatCard label="Actual repeat purchases" value={formatCount(validation.actual_total)} hint={`up to ${formatDate(validation.holdout_end)}`} />
        <StatCard label="Holdout length" value={`${formatNumber(validation.holdout_length, 1)} ${validation.time_unit}`} />
      </SimpleGrid>
      <BarChart
        h={240}
        data={rows}
        dataKey="purchases"
        series={[
          { name: "expected", label: "Expected", color: "blue.6" },
          { name: "actual", label: "Actual", color: "orange.6" },
        ]}
        withLegend
        xAxisLabel="Repeat purchases in the calibration period"
        yAxisLabel="Holdout purchases per customer"
        valueFormatter={(v) => formatNumber(v, 2)}
        aria-hidden
              barChartProps={{ accessibilityLayer: false }}
      />
      <Table.ScrollContainer minWidth={480}>
        <Table fz="sm" aria-label="Expected and actual holdout purchases" verticalSpacing={4}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Calibration repeat purchases</Table.Th>
              <Table.Th ta="right">Customers</Table.Th>
              <Table.Th ta="right">Expected per customer</Table.Th>
              <Table.Th ta="right">Actual per customer</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {validation.buckets.map((b) => (
              <Table.Tr key={b.purchases} data-testid={`bucket-${b.purchases}`}>
                <Table.Td>{b.purchases}</Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatCount(b.customers)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatNumber(b.expected, 3)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatNumber(b.actual, 3)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Freshness asOf={validation.freshness.as_of} label="profiles as of" />
    </Stack>
  );
}

function dayOrNull(value: unknown): string | null {
  if (value instanceof Date) return isoDay(value);
  return typeof value === "string" && value ? value.slice(0, 10) : null;
}

export function ClvValidation() {
  const [draft, setDraft] = useState<ValidationPeriod>(() => defaultPeriod());
  const [period, setPeriod] = useState<ValidationPeriod | null>(null);
  const validation = useQuery({ ...validateClvOptions({ query: period ?? draft }), enabled: period !== null, retry: false });
  const invalid = draft.calibration_end >= draft.holdout_end;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="validation-title">
      <Title order={2} size="h5" id="validation-title" mb="xs">
        Checked against a holdout period
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Fit on the orders up to the calibration end, then compare the repeat purchases it expects until the holdout end with those made.
      </Text>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!invalid) setPeriod(draft);
        }}
      >
        <Group align="flex-end" gap="md" wrap="wrap">
          <DateInput label="Calibration end" valueFormat="YYYY-MM-DD" w={170} value={draft.calibration_end} onChange={(v) => setDraft({ ...draft, calibration_end: dayOrNull(v) ?? draft.calibration_end })} />
          <DateInput
            label="Holdout end"
            valueFormat="YYYY-MM-DD"
            w={170}
            value={draft.holdout_end}
            error={invalid ? "After the calibration end." : undefined}
            onChange={(v) => setDraft({ ...draft, holdout_end: dayOrNull(v) ?? draft.holdout_end })}
          />
          <Button type="submit" variant="light" disabled={invalid} loading={validation.isFetching}>
            Check
          </Button>
        </Group>
      </form>
      <div style={{ marginTop: 16 }}>
        {period === null ? (
          <Text size="sm" c="dimmed">
            Choose a period and check: nothing is stored, and the model in use does not change.
          </Text>
        ) : (
          <QueryState query={validation} loadingLabel="Fitting on the calibration period" errorTitle="Cannot check this period">
            {(v) => <ClvValidationView validation={v} />}
          </QueryState>
        )}
      </div>
    </Paper>
  );
}
