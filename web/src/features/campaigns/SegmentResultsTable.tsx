import { Table, Text } from "@mantine/core";

import { ScrollTable } from "../../components/ScrollTable";
import { formatCount, formatInterval, formatPercent, formatSignedPercent } from "../../lib/format";
import type { SegmentResult } from "./shapes";

const rel = (v: number) => formatSignedPercent(v, 1);

/** Results per target segment (GET …/results?by=segment): treated against holdout, with the relative lift. */
export function SegmentResultsTable({ rows, segmentName }: { rows: SegmentResult[]; segmentName: (id: string) => string }) {
  return (
    <ScrollTable minWidth={760} label="Results per target segment">
      <Table aria-label="Results per target segment" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Segment</Table.Th>
            <Table.Th ta="right">Sent</Table.Th>
            <Table.Th ta="right">Converted</Table.Th>
            <Table.Th ta="right">Conversion rate</Table.Th>
            <Table.Th ta="right">Holdout</Table.Th>
            <Table.Th ta="right">Holdout rate</Table.Th>
            <Table.Th ta="right">Lift (95% interval)</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => {
            const lift = r.conversion_rate?.relative;
            return (
              <Table.Tr key={r.segment_id}>
                <Table.Th scope="row">{r.segment_id === "none" ? "(no segment)" : segmentName(r.segment_id)}</Table.Th>
                <Table.Td ta="right" className="tabular">{formatCount(r.treated.sent)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatCount(r.treated.conversions)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatPercent(r.treated.conversion_rate, 2)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatCount(r.holdout.users)}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatPercent(r.holdout.conversion_rate, 2)}</Table.Td>
                <Table.Td ta="right" className="tabular">
                  {lift?.computable ? (
                    `${rel(lift.lift)} (${formatInterval(lift.ci_low, lift.ci_high, rel)})`
                  ) : (
                    <Text size="xs" c="dimmed" component="span">
                      {lift?.reason ?? r.reason ?? "not computable"}
                    </Text>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}
