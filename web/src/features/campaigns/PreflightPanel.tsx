// Pre-flight: what launching now would do, computed by the launch's own eligibility and assignment — who is
// skipped and why, held out, waiting for an A/B winner, and each variant's recipients.
import { SimpleGrid, Stack, Table, Text } from "@mantine/core";

import type { Preflight } from "../../client/campaigns/types.gen";
import { Freshness } from "../../components/Freshness";
import { StatCard } from "../../components/StatCard";
import { formatCount } from "../../lib/format";
import { reasonLabel } from "./reasons";

export function PreflightFigures({ preflight }: { preflight: Preflight }) {
  const skipped = Object.entries(preflight.skipped);
  return (
    <Stack gap="sm">
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <StatCard label="Audience" value={formatCount(preflight.audience)} />
        <StatCard label="Will be sent" value={formatCount(preflight.sendable)} />
        <StatCard label="Holdout" value={formatCount(preflight.held_out)} />
        <StatCard label="Waiting for winner" value={formatCount(preflight.waiting)} />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Table aria-label="Skipped by reason" verticalSpacing={4}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Skipped because</Table.Th>
              <Table.Th ta="right">Profiles</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {skipped.length === 0 ? (
              <Table.Tr>
                <Table.Td colSpan={2}>
                  <Text size="sm" c="dimmed">Nobody is skipped.</Text>
                </Table.Td>
              </Table.Tr>
            ) : (
              skipped.map(([reason, n]) => (
                <Table.Tr key={reason}>
                  <Table.Td>{reasonLabel(reason)}</Table.Td>
                  <Table.Td ta="right" className="tabular">{formatCount(n)}</Table.Td>
                </Table.Tr>
              ))
            )}
            {preflight.already_exposed ? (
              <Table.Tr>
                <Table.Td>Already reached by this campaign</Table.Td>
                <Table.Td ta="right" className="tabular">{formatCount(preflight.already_exposed)}</Table.Td>
              </Table.Tr>
            ) : null}
          </Table.Tbody>
        </Table>
        <Table aria-label="Recipients per variant" verticalSpacing={4}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Variant</Table.Th>
              <Table.Th ta="right">Recipients</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {preflight.variants.map((v) => (
              <Table.Tr key={v.variant_id}>
                <Table.Td>{v.name}</Table.Td>
                <Table.Td ta="right" className="tabular">{formatCount(v.recipients)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </SimpleGrid>
      <Freshness asOf={preflight.checked_at} label="checked" />
    </Stack>
  );
}
