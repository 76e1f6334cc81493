import { Anchor, Table } from "@mantine/core";

import { ScrollTable } from "../../components/ScrollTable";
import type { LinkClicks } from "../../client/campaigns/types.gen";
import { formatCount } from "../../lib/format";

/** Clicks per link of the mail (GET /v1/campaigns/{id}/links), most clicked first as the API orders them. */
export function LinksTable({ rows }: { rows: LinkClicks[] }) {
  return (
    <ScrollTable minWidth={520} label="Clicks per link">
      <Table aria-label="Clicks per link" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Link</Table.Th>
            <Table.Th ta="right">Clicks</Table.Th>
            <Table.Th ta="right">People</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={r.url ?? "(none)"}>
              <Table.Td style={{ overflowWrap: "anywhere" }}>
                {r.url ? (
                  <Anchor href={r.url} target="_blank" rel="noreferrer noopener" size="sm">
                    {r.url}
                  </Anchor>
                ) : (
                  "(unknown link)"
                )}
              </Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(r.clicks)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(r.people)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}
