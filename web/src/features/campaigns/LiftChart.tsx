// Lifts with their 95% intervals as a forest plot: one row per comparison, a dot at the estimate and a line across
// the interval, zero marked. Every figure drawn or written comes from the API's Lift as it is.
import { Stack, Text } from "@mantine/core";

import { formatInterval, formatNumber } from "../../lib/format";
import type { Lift } from "./shapes";

export interface LiftRow {
  label: string;
  lift: Lift;
  /** How the row's values read: a signed percentage for relative lifts, points or money for absolute ones. */
  format: (value: number) => string;
}

const WIDTH = 640;
const ROW = 44;
const LEFT = 250;
const RIGHT = 24;

export function LiftChart({ rows, title }: { rows: LiftRow[]; title: string }) {
  const shown = rows.filter((r) => r.lift.computable);
  const skipped = rows.filter((r) => !r.lift.computable);
  const ends = shown.flatMap((r) => [r.lift.ci_low, r.lift.ci_high]).concat(0);
  const [min, max] = [Math.min(...ends), Math.max(...ends)];
  const span = max - min || 1;
  const x = (v: number) => LEFT + ((v - min) / span) * (WIDTH - LEFT - RIGHT);
  const height = shown.length * ROW + 16;
  return (
    <Stack gap={4}>
      {shown.length ? (
        <svg viewBox={`0 0 ${WIDTH} ${height}`} width="100%" role="img" aria-label={title} style={{ maxWidth: WIDTH }}>
          <line x1={x(0)} x2={x(0)} y1={0} y2={height} stroke="var(--mantine-color-gray-5)" strokeDasharray="4 3" />
          {shown.map((row, i) => {
            const y = i * ROW + 24;
            const good = row.lift.ci_low > 0;
            const bad = row.lift.ci_high < 0;
            const color = good ? "var(--mantine-color-teal-7)" : bad ? "var(--mantine-color-red-7)" : "var(--mantine-color-blue-7)";
            return (
              <g key={row.label} data-testid="lift-row">
                <text x={0} y={y - 4} fontSize={13} fill="currentColor">
                  {row.label}
                </text>
                <text x={0} y={y + 12} fontSize={11} fill="var(--mantine-color-dimmed)">
                  {`${row.format(row.lift.lift)} (${formatInterval(row.lift.ci_low, row.lift.ci_high, row.format)}) p = ${formatNumber(row.lift.p_value, 3)}`}
                </text>
                <line x1={x(row.lift.ci_low)} x2={x(row.lift.ci_high)} y1={y} y2={y} stroke={color} strokeWidth={3} />
                <circle cx={x(row.lift.lift)} cy={y} r={6} fill={color} />
              </g>
            );
          })}
        </svg>
      ) : null}
      {skipped.map((row) => (
        <Text key={row.label} size="sm" c="dimmed">
          {row.label}: not computable yet ({row.lift.reason})
        </Text>
      ))}
    </Stack>
  );
}
