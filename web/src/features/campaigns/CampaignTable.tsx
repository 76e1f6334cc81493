// The campaigns list: one line per campaign from GET /v1/campaigns/summary, figures as the API sums them.
import { Stack, Table, Text, Tooltip } from "@mantine/core";

import type { CampaignSummary } from "../../client/campaigns/types.gen";
import { RelativeTime } from "../../components/Freshness";
import { ScrollTable } from "../../components/ScrollTable";
import { AnchorLink } from "../../components/links";
import { formatCount, formatInterval, formatNumber, formatSignedPercent } from "../../lib/format";
import { CampaignStatus } from "./CampaignStatus";
import type { SummaryLift } from "./shapes";

const CHANNELS: Record<string, string> = { email: "Email", audience_export: "Audience export", webhook: "Webhook" };

function LiftCell({ lift }: { lift: SummaryLift | null }) {
  if (!lift) return <Text size="xs" c="dimmed">no holdout</Text>;
  if (!lift.computable) {
    return (
      <Text size="xs" c="dimmed" title={lift.reason}>
        not yet
      </Text>
    );
  }
  const f = (v: number) => formatSignedPercent(v, 1);
  return (
    <Stack gap={0} align="flex-end">
      <Text size="sm" fw={600} className="tabular">
        {f(lift.lift)}
      </Text>
      <Text size="xs" c="dimmed" className="tabular">
        {formatInterval(lift.ci_low, lift.ci_high, f)} · p {formatNumber(lift.p_value, 3)}
      </Text>
    </Stack>
  );
}

export function CampaignTable({ rows }: { rows: CampaignSummary[] }) {
  return (
    <ScrollTable minWidth={980} label="Campaigns">
      <Table verticalSpacing="sm" highlightOnHover aria-label="Campaigns">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Channel</Table.Th>
            <Table.Th ta="right">Audience</Table.Th>
            <Table.Th ta="right">Sent</Table.Th>
            <Table.Th ta="right">Opens (human)</Table.Th>
            <Table.Th ta="right">Clicks</Table.Th>
            <Table.Th ta="right">Conversions</Table.Th>
            <Table.Th ta="right">Lift vs holdout</Table.Th>
            <Table.Th>Last error</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((c) => (
            <Table.Tr key={c.id} data-testid={`campaign-${c.id}`}>
              <Table.Td>
                <AnchorLink to="/campaigns/$campaignId" params={{ campaignId: c.id }} fw={600}>
                  {c.name}
                </AnchorLink>
                <Text size="xs" c="dimmed">
                  <RelativeTime value={c.launched_at} prefix={c.launched_at ? "launched " : "not launched"} />
                </Text>
              </Table.Td>
              <Table.Td>
                <CampaignStatus status={c.status} />
              </Table.Td>
              <Table.Td>{CHANNELS[c.channel] ?? c.channel}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(c.audience)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(c.sent)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(c.human_opens)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(c.clicks)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatCount(c.conversions)}</Table.Td>
              <Table.Td ta="right">
                <LiftCell lift={(c.lift ?? null) as SummaryLift | null} />
              </Table.Td>
              <Table.Td maw={240}>
                {c.last_error ? (
                  <Tooltip label={c.last_error} multiline w={320}>
                    <Text size="xs" c="red.8" lineClamp={2}>
                      {c.last_error}
                    </Text>
                  </Tooltip>
                ) : (
                  <Text size="xs" c="dimmed">–</Text>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}
