// A campaign's retention uplift: targeted vs held-out members who ordered within 30, 60 and 90 days of their send,
// the difference with its 95% interval and p-value, and whether each window has elapsed. The figures are the API's.
import { Badge, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";

import { getRetentionUpliftOptions } from "../../client/campaigns/@tanstack/react-query.gen";
import type { RetentionUplift, RetentionWindow } from "../../client/campaigns/types.gen";
import { Freshness } from "../../components/Freshness";
import { Empty, QueryState } from "../../components/QueryState";
import { formatCount, formatDate, formatInterval, formatNumber, formatPercent, formatSignedPercent } from "../../lib/format";
import { LiftChart, type LiftRow } from "../campaigns/LiftChart";
import type { Lift } from "../campaigns/shapes";

const points = (v: number) => formatSignedPercent(v, 1);

/** The window's state in words: elapsed, partly measured, or not yet (with the day it will be). */
export function windowState(w: RetentionWindow): string {
  if (w.elapsed) return "elapsed";
  if (w.measured > 0) return `partial: ${formatCount(w.measured)} of ${formatCount(w.members)} members, complete ${formatDate(w.complete_at)}`;
  return w.complete_at ? `not yet: complete ${formatDate(w.complete_at)}` : "no sends yet";
}

function liftRows(windows: RetentionWindow[]): LiftRow[] {
  return windows
    .filter((w) => w.difference)
    .map((w) => ({ label: `${w.days} days`, lift: { computable: true, reason: "", ...w.difference } as Lift, format: points }));
}

export function RetentionUpliftView({ uplift }: { uplift: RetentionUplift }) {
  return (
    <>
      <Text size="sm" c="dimmed">
        Share of members with an order ({uplift.order_event}) within each window after their send; targeted minus held out.
      </Text>
      <Table.ScrollContainer minWidth={640}>
        <Table aria-label="Retention uplift" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Window</Table.Th>
              <Table.Th ta="right">Targeted active</Table.Th>
              <Table.Th ta="right">Holdout active</Table.Th>
              <Table.Th ta="right">Difference</Table.Th>
              <Table.Th ta="right">95% interval</Table.Th>
              <Table.Th ta="right">p-value</Table.Th>
              <Table.Th>Freshness</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {uplift.windows.map((w) => (
              <Table.Tr key={w.days} data-testid={`retention-${w.days}`}>
                <Table.Td>{w.days} days</Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatPercent(w.targeted.rate)} <Text span size="xs" c="dimmed">({formatCount(w.targeted.active)} of {formatCount(w.targeted.users)})</Text>
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatPercent(w.holdout.rate)} <Text span size="xs" c="dimmed">({formatCount(w.holdout.active)} of {formatCount(w.holdout.users)})</Text>
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {w.difference?.computable === false ? "–" : points(w.difference?.lift ?? Number.NaN)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {w.difference?.computable === false ? "–" : formatInterval(w.difference?.ci_low, w.difference?.ci_high, points)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {w.difference?.computable === false ? "–" : formatNumber(w.difference?.p_value, 3)}
                </Table.Td>
                <Table.Td>
                  <Badge variant="light" color={w.elapsed ? "green" : w.measured ? "yellow" : "gray"}>
                    {windowState(w)}
                  </Badge>
                  {w.reason ?? w.difference?.reason ? (
                    <Text size="xs" c="dimmed">
                      {w.reason ?? w.difference?.reason}
                    </Text>
                  ) : null}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <LiftChart title="Retention uplift with 95% intervals" rows={liftRows(uplift.windows)} />
      <Freshness asOf={uplift.as_of} label="measured" />
    </>
  );
}

export function RetentionUpliftPanel({ campaignId }: { campaignId: string }) {
  const uplift = useQuery(getRetentionUpliftOptions({ path: { campaign_id: campaignId } }));
  return (
    <QueryState
      query={uplift}
      loadingLabel="Measuring retention"
      isEmpty={(u) => u.windows.every((w) => w.members === 0)}
      empty={<Empty title="Nobody sent to or held out yet" description="Retention is measured 30, 60 and 90 days after the sends." />}
    >
      {(u) => <RetentionUpliftView uplift={u} />}
    </QueryState>
  );
}
