// Who the campaign sent to, held out or skipped (with the reason), a page at a time (cursor pagination).
import { Button, Group, Select, Stack, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { listExposuresOptions } from "../../client/campaigns/@tanstack/react-query.gen";
import type { ListExposuresData } from "../../client/campaigns/types.gen";
import { RelativeTime } from "../../components/Freshness";
import { ScrollTable } from "../../components/ScrollTable";
import { AnchorLink } from "../../components/links";
import { Empty, QueryState } from "../../components/QueryState";
import { OUTCOME_VALUES, outcomeLabel, reasonLabel } from "./reasons";

type Outcome = NonNullable<NonNullable<ListExposuresData["query"]>["outcome"]>;

export function ExposuresTable({ campaignId, variantName }: { campaignId: string; variantName: (id: string) => string }) {
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [cursors, setCursors] = useState<number[]>([]);
  const cursor = cursors[cursors.length - 1];
  const exposures = useQuery({
    ...listExposuresOptions({ path: { campaign_id: campaignId }, query: { outcome, cursor, limit: 50 } }),
  });
  return (
    <Stack gap="sm">
      <Select
        label="Outcome"
        placeholder="All outcomes"
        clearable
        w={240}
        data={OUTCOME_VALUES.map((o) => ({ value: o, label: outcomeLabel(o) }))}
        value={outcome}
        onChange={(v) => {
          setOutcome(v as Outcome | null);
          setCursors([]);
        }}
      />
      <QueryState query={exposures} isEmpty={(d) => d.items.length === 0} empty={<Empty title="No exposures" description="Nobody in this view yet." />}>
        {(page) => (
          <>
            <ScrollTable minWidth={640} label="Exposures">
              <Table aria-label="Exposures" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Customer</Table.Th>
                    <Table.Th>Outcome</Table.Th>
                    <Table.Th>Variant</Table.Th>
                    <Table.Th>Skip reason</Table.Th>
                    <Table.Th>When</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((e) => (
                    <Table.Tr key={`${e.profile_id}-${e.at}`}>
                      <Table.Td>
                        <AnchorLink to="/customers/$profileId" params={{ profileId: e.profile_id }} size="sm" ff="monospace">
                          {e.profile_id}
                        </AnchorLink>
                      </Table.Td>
                      <Table.Td>{outcomeLabel(e.outcome)}</Table.Td>
                      <Table.Td>{e.variant_id ? variantName(e.variant_id) : "–"}</Table.Td>
                      <Table.Td>{reasonLabel(e.reason)}</Table.Td>
                      <Table.Td>
                        <RelativeTime value={e.at} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollTable>
            <Group justify="space-between">
              <Button variant="default" size="xs" disabled={!cursors.length} onClick={() => setCursors((c) => c.slice(0, -1))}>
                Previous page
              </Button>
              <Text size="xs" c="dimmed">
                Page {cursors.length + 1}
              </Text>
              <Button
                variant="default"
                size="xs"
                disabled={page.next_cursor == null}
                onClick={() => page.next_cursor != null && setCursors((c) => [...c, page.next_cursor as number])}
              >
                Next page
              </Button>
            </Group>
          </>
        )}
      </QueryState>
    </Stack>
  );
}
