// A campaign's audience exports: size, added and removed since the one before, CSV downloads per ad platform, and
// the push to the webhook with its status and a retry.
import { Anchor, Badge, Button, Group, Table, Text } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";

import { listExportsQueryKey, pushExportMutation } from "../../client/campaigns/@tanstack/react-query.gen";
import { errorMessage } from "../../api/errors";
import { WriteAccess } from "../../components/Access";
import { RelativeTime } from "../../components/Freshness";
import { ScrollTable } from "../../components/ScrollTable";
import { formatCount, formatDelta } from "../../lib/format";
import type { AudienceExport } from "./shapes";

function csvHref(campaignId: string, exportId: string, platform: "google_ads" | "meta", part = "all"): string {
  const path = `/api/campaigns/v1/campaigns/${encodeURIComponent(campaignId)}/exports/${encodeURIComponent(exportId)}.csv`;
  return `${path}?platform=${platform}&part=${part}`;
}

function PushStatus({ row }: { row: AudienceExport }) {
  if (row.pushed === "ok") return <Badge color="teal" variant="light">pushed</Badge>;
  if (row.push_error) {
    return (
      <Text size="xs" c="red.8" title={row.push_error} lineClamp={2}>
        failed: {row.push_error}
      </Text>
    );
  }
  return <Text size="xs" c="dimmed">not pushed</Text>;
}

function RetryPush({ campaignId, row }: { campaignId: string; row: AudienceExport }) {
  const client = useQueryClient();
  const push = useMutation({
    ...pushExportMutation(),
    onSettled: () => client.invalidateQueries({ queryKey: listExportsQueryKey({ path: { campaign_id: campaignId } }) }),
  });
  return (
    <Group gap={4}>
      <Button
        size="compact-xs"
        variant="light"
        loading={push.isPending}
        onClick={() => push.mutate({ path: { campaign_id: campaignId, export_id: row.id } })}
      >
        {row.pushed === "ok" ? "Push again" : "Retry push"}
      </Button>
      {push.isError ? (
        <Text size="xs" c="red.8" role="alert">
          {errorMessage(push.error)}
        </Text>
      ) : null}
    </Group>
  );
}

export function ExportsPanel({ campaignId, rows, pushes }: { campaignId: string; rows: AudienceExport[]; pushes: boolean }) {
  return (
    <ScrollTable minWidth={760} label="Audience exports">
      <Table aria-label="Audience exports" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Made</Table.Th>
            <Table.Th ta="right">Rows</Table.Th>
            <Table.Th ta="right">Added</Table.Th>
            <Table.Th ta="right">Removed</Table.Th>
            <Table.Th>Download</Table.Th>
            <Table.Th>Push</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.id}>
              <Table.Td>
                <RelativeTime value={row.created_at} />
              </Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(row.rows)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatDelta(row.added)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(row.removed)}</Table.Td>
              <Table.Td>
                <Group gap="xs">
                  <Anchor size="sm" href={csvHref(campaignId, row.id, "google_ads")} download>
                    Google Ads CSV
                  </Anchor>
                  <Anchor size="sm" href={csvHref(campaignId, row.id, "meta")} download>
                    Meta CSV
                  </Anchor>
                </Group>
              </Table.Td>
              <Table.Td>
                <Group gap="xs">
                  <PushStatus row={row} />
                  {pushes ? (
                    <WriteAccess>
                      <RetryPush campaignId={campaignId} row={row} />
                    </WriteAccess>
                  ) : null}
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}
