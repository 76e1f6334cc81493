// RFM: customers scored 1–5 on recency (R) and on frequency and money combined (FM), each cell of the 5 × 5 grid
// named by the segment map, which marketers may edit; scoring stores R, F, M and the name for segment rules.
import { Alert, Autocomplete, Button, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconPencil } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState } from "react";

import { errorMessage, fieldErrors } from "../../api/errors";
import type { RfmMap, RfmMapCell, RfmSummary } from "../../api/shapes";
import {
  getRfmSummaryOptions,
  getRfmSummaryQueryKey,
  getSegmentMapOptions,
  getSegmentMapQueryKey,
  putSegmentMapMutation,
  scoreRfmMutation,
} from "../../client/segmentation/@tanstack/react-query.gen";
import { WriteAccess } from "../../components/Access";
import { Freshness } from "../../components/Freshness";
import { PageHeader } from "../../components/PageHeader";
import { Empty, QueryState } from "../../components/QueryState";
import { DEFAULT_RFM_NAMES } from "../../features/segments/suggestions";
import { formatCount, formatCurrency, formatNumber, formatPercent } from "../../lib/format";

export const Route = createFileRoute("/_console/models/rfm")({
  component: RfmPage,
});

const SCORES = [5, 4, 3, 2, 1];
const PALETTE = ["blue", "teal", "green", "lime", "yellow", "orange", "red", "pink", "grape", "violet", "indigo", "cyan"];

function colorOf(name: string, names: string[]): string {
  const i = names.indexOf(name);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length] ?? "gray";
}

function RfmPage() {
  const summary = useQuery(getRfmSummaryOptions());
  const map = useQuery(getSegmentMapOptions());
  const queryClient = useQueryClient();
  const score = useMutation({
    ...scoreRfmMutation(),
    onSuccess: (data) => {
      queryClient.setQueryData(getRfmSummaryQueryKey(), data);
      notifications.show({ color: "green", message: "Scores stored: segment rules can use rfm_segment, rfm_r, rfm_f and rfm_m." });
    },
    onError: (error) => notifications.show({ color: "red", title: "Not scored", message: errorMessage(error) }),
  });
  const data = summary.data;
  return (
    <>
      <PageHeader
        title="RFM"
        description="Recency, frequency and money spent, scored 1–5 by quintiles among customers with an order."
        meta={<Freshness asOf={data?.as_of} fetchedAt={summary.dataUpdatedAt || undefined} />}
        actions={
          <WriteAccess>
            <Button onClick={() => score.mutate({})} loading={score.isPending}>
              Score customers now
            </Button>
          </WriteAccess>
        }
      />
      <Stack gap="lg">
        <QueryState query={map} loadingLabel="Loading the segment map">
          {(map) => <Grid map={map} summary={data} />}
        </QueryState>
        <QueryState
          query={summary}
          loadingLabel="Scoring"
          isEmpty={(d) => d.customers === 0}
          empty={<Empty title="No customer has ordered yet" />}
        >
          {(found) => <Segments summary={found} />}
        </QueryState>
      </Stack>
    </>
  );
}

function Grid({ map, summary }: { map: RfmMap; summary: RfmSummary | undefined }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<RfmMapCell[]>(map.cells);
  const queryClient = useQueryClient();
  const save = useMutation({
    ...putSegmentMapMutation(),
    onSuccess: async (saved) => {
      queryClient.setQueryData(getSegmentMapQueryKey(), saved);
      await queryClient.invalidateQueries({ queryKey: getRfmSummaryQueryKey() });
      setEditing(false);
      notifications.show({ color: "green", message: "The map applies from the next scoring." });
    },
  });
  const cells = editing ? draft : map.cells;
  const names = [...new Set([...map.cells.map((c) => c.name), ...DEFAULT_RFM_NAMES])];
  const nameAt = (r: number, fm: number) => cells.find((c) => c.r === r && c.fm === fm)?.name ?? "";
  const countAt = (r: number, fm: number) => summary?.cells?.find((c) => c.r === r && c.fm === fm)?.customers;
  const setName = (r: number, fm: number, name: string) =>
    setDraft((old) => [...old.filter((c) => c.r !== r || c.fm !== fm), { r, fm, name }]);
  const apiErrors = fieldErrors(save.error);
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="grid-title">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4" id="grid-title">
          Segment map: recency × frequency-and-money
        </Title>
        <WriteAccess>
          {editing ? (
            <Group gap="xs">
              <Button
                size="xs"
                loading={save.isPending}
                onClick={() => save.mutate({ body: { cells: draft.filter((c) => c.name.trim()).map((c) => ({ ...c, name: c.name.trim() })) } })}
              >
                Save map
              </Button>
              <Button size="xs" variant="default" onClick={() => setEditing(false)}>
                Cancel
              </Button>
            </Group>
          ) : (
            <Button size="xs" variant="light" leftSection={<IconPencil size={14} aria-hidden />} onClick={() => { setDraft(map.cells); setEditing(true); }}>
              Edit map
            </Button>
          )}
        </WriteAccess>
      </Group>
      {save.isError ? (
        <Alert color="red" mb="sm" role="alert">
          {errorMessage(save.error)} {Object.values(apiErrors).join(" ")}
        </Alert>
      ) : null}
      <Table.ScrollContainer minWidth={640}>
        <Table withTableBorder withColumnBorders aria-label="RFM segment map" layout="fixed">
          <Table.Caption>
            Rows: recency score (5 = bought most recently). Columns: frequency-and-money score (5 = buys most, spends most).
            {summary && !summary.cells ? " Customers per cell are not reported by segmentation yet; totals per segment are below." : ""}
          </Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={70}>R \ FM</Table.Th>
              {[1, 2, 3, 4, 5].map((fm) => (
                <Table.Th key={fm} ta="center">
                  FM {fm}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {SCORES.map((r) => (
              <Table.Tr key={r}>
                <Table.Th>R {r}</Table.Th>
                {[1, 2, 3, 4, 5].map((fm) => {
                  const name = nameAt(r, fm);
                  const count = countAt(r, fm);
                  return (
                    <Table.Td key={fm} bg={name && !editing ? `var(--mantine-color-${colorOf(name, names)}-light)` : undefined} p={6}>
                      {editing ? (
                        <Autocomplete aria-label={`Name of R ${r}, FM ${fm}`} data={names} value={name} onChange={(v) => setName(r, fm, v)} size="xs" maxLength={60} />
                      ) : (
                        <Stack gap={0}>
                          <Text size="sm" fw={600}>
                            {name || "Other"}
                          </Text>
                          {count !== undefined ? (
                            <Text size="xs" className="tabular">
                              {formatCount(count)} customers
                            </Text>
                          ) : null}
                        </Stack>
                      )}
                    </Table.Td>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}

function Segments({ summary }: { summary: RfmSummary }) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="rfm-segments-title">
      <Title order={2} size="h4" id="rfm-segments-title" mb="sm">
        {formatCount(summary.customers)} customers by RFM segment
      </Title>
      <Table.ScrollContainer minWidth={640}>
        <Table aria-label="RFM segments" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Segment</Table.Th>
              <Table.Th ta="right">Customers</Table.Th>
              <Table.Th ta="right">Share</Table.Th>
              <Table.Th ta="right">Days since last order</Table.Th>
              <Table.Th ta="right">Orders</Table.Th>
              <Table.Th ta="right">Spent</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {summary.segments.map((s) => (
              <Table.Tr key={s.segment}>
                <Table.Td fw={600}>{s.segment}</Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatCount(s.customers)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatPercent(s.share)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatNumber(s.mean_recency_days, 0)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatNumber(s.mean_frequency, 1)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatCurrency(s.mean_monetary)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Text size="xs" c="dimmed" mt="xs">
        Averages per customer in each segment.
      </Text>
    </Paper>
  );
}
