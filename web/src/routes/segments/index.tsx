// Segments: every segment with its kind, size, status, freshness and how its size moved.
import { Button, Group, Table, Text, TextInput } from "@mantine/core";
import { IconPlus, IconSearch } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useMemo, useState } from "react";

import { getHistoryOptions, listSegmentsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import type { SegmentRead } from "../../client/segmentation/types.gen";
import { WriteAccess } from "../../components/Access";
import { Sparkline } from "../../components/charts";
import { Freshness, RelativeTime } from "../../components/Freshness";
import { AnchorLink, ButtonLink } from "../../components/links";
import { PageHeader } from "../../components/PageHeader";
import { Empty, QueryState } from "../../components/QueryState";
import { KindBadge, StatusBadge } from "../../features/segments/status";
import { formatCount } from "../../lib/format";

export const Route = createFileRoute("/_console/segments/")({
  component: SegmentsPage,
});

// Rows per page: with a thousand segments, drawing every row (and asking for every sparkline's history) took seconds.
const PAGE = 50;

function Pager({ page, total, onPage }: { page: number; total: number; onPage: (page: number) => void }) {
  if (total <= PAGE) return null;
  const last = Math.ceil(total / PAGE) - 1;
  return (
    <Group justify="flex-end" gap="sm" mt="sm" role="navigation" aria-label="Pages of segments">
      <Text size="sm" c="dimmed" className="tabular">
        {formatCount(page * PAGE + 1)}–{formatCount(Math.min(total, (page + 1) * PAGE))} of {formatCount(total)}
      </Text>
      <Button size="xs" variant="default" disabled={page === 0} onClick={() => onPage(page - 1)}>
        Previous
      </Button>
      <Button size="xs" variant="default" disabled={page === last} onClick={() => onPage(page + 1)}>
        Next
      </Button>
    </Group>
  );
}

function SizeHistory({ segment }: { segment: SegmentRead }) {
  const history = useQuery({ ...getHistoryOptions({ path: { segment_id: segment.id } }), staleTime: 60_000 });
  const sizes = (history.data ?? []).map((h) => h.size);
  if (sizes.length < 2) return <Text size="xs" c="dimmed">{history.isPending ? "…" : "one computation"}</Text>;
  const first = sizes[0] ?? 0;
  const last = sizes[sizes.length - 1] ?? 0;
  return (
    <div role="img" aria-label={`Size over ${sizes.length} computations: from ${formatCount(first)} to ${formatCount(last)}`}>
      <Sparkline data={sizes} w={120} h={28} curveType="linear" trendColors={{ positive: "teal.6", negative: "red.6", neutral: "gray.5" }} fillOpacity={0.2} />
    </div>
  );
}

function SegmentsPage() {
  const segments = useQuery({
    ...listSegmentsOptions(),
    refetchInterval: (query) => (query.state.data?.some((s) => s.status === "building") ? 3_000 : 30_000),
  });
  const [search, setSearch] = useState("");
  const [page, setPage] = useState(0);
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const all = segments.data ?? [];
    return needle ? all.filter((s) => `${s.name} ${s.description} ${s.kind}`.toLowerCase().includes(needle)) : all;
  }, [segments.data, search]);
  return (
    <>
      <PageHeader
        title="Segments"
        description="Who is in which group, how big each is and how it changes."
        meta={<Freshness fetchedAt={segments.dataUpdatedAt || undefined} />}
        actions={
          <WriteAccess>
            <ButtonLink to="/segments/new" leftSection={<IconPlus size={16} aria-hidden />}>
              New segment
            </ButtonLink>
          </WriteAccess>
        }
      />
      <QueryState
        query={segments}
        loadingLabel="Loading segments"
        isEmpty={(data) => data.length === 0}
        empty={
          <Empty
            title="No segments yet"
            description="Create one from traits, behaviour and scores, or publish a clustering."
            action={
              <WriteAccess>
                <ButtonLink to="/segments/new">New segment</ButtonLink>
              </WriteAccess>
            }
          />
        }
      >
        {() => (
          <>
            <TextInput
              label="Search segments"
              placeholder="Name, description or kind"
              leftSection={<IconSearch size={16} aria-hidden />}
              value={search}
              onChange={(e) => {
                setSearch(e.currentTarget.value);
                setPage(0);
              }}
              maw={360}
              mb="md"
            />
            {shown.length === 0 ? (
              <Empty title="No segment matches your search" />
            ) : (
              <Table.ScrollContainer minWidth={760}>
                <Table highlightOnHover verticalSpacing="sm" aria-label="Segments">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Name</Table.Th>
                      <Table.Th>Kind</Table.Th>
                      <Table.Th ta="right">Size</Table.Th>
                      <Table.Th>Status</Table.Th>
                      <Table.Th>Last computed</Table.Th>
                      <Table.Th>Size history</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {shown.slice(page * PAGE, (page + 1) * PAGE).map((s) => (
                      <Table.Tr key={s.id}>
                        <Table.Td>
                          <AnchorLink to="/segments/$segmentId" params={{ segmentId: s.id }} fw={600}>
                            {s.name}
                          </AnchorLink>
                          {s.description ? (
                            <Text size="xs" c="dimmed" lineClamp={1}>
                              {s.description}
                            </Text>
                          ) : null}
                        </Table.Td>
                        <Table.Td>
                          <KindBadge kind={s.kind} />
                        </Table.Td>
                        <Table.Td ta="right" className="tabular">
                          {formatCount(s.size)}
                        </Table.Td>
                        <Table.Td>
                          <StatusBadge segment={s} />
                        </Table.Td>
                        <Table.Td>
                          <RelativeTime value={s.last_computed_at} />
                        </Table.Td>
                        <Table.Td>
                          <Group>
                            <SizeHistory segment={s} />
                          </Group>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
            <Pager page={page} total={shown.length} onPage={setPage} />
          </>
        )}
      </QueryState>
    </>
  );
}
