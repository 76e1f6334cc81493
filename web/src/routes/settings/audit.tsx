// The audit log (admins): who did what to which object, when and from where; filtered, paged by cursor.
import { Button, Code, Group, Paper, Table, Text, TextInput, Title } from "@mantine/core";
import { DateTimePicker } from "@mantine/dates";
import "@mantine/dates/styles.css";
import { useForm } from "@mantine/form";
import { useInfiniteQuery } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";

import { listAuditInfiniteOptions } from "../../client/console/@tanstack/react-query.gen";
import type { ListAuditData } from "../../client/console/types.gen";
import { RelativeTime } from "../../components/Freshness";
import { Empty, ErrorState, Loading } from "../../components/QueryState";
import { formatCount } from "../../lib/format";

type Filters = NonNullable<ListAuditData["query"]>;
const FILTER_KEYS = ["actor", "action", "object_type", "object_id", "since", "until"] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
type AuditSearch = Partial<Record<FilterKey, string>>;

export const Route = createFileRoute("/_console/settings/audit")({
  validateSearch: (search: Record<string, unknown>): AuditSearch =>
    Object.fromEntries(FILTER_KEYS.filter((k) => typeof search[k] === "string" && search[k]).map((k) => [k, search[k] as string])),
  component: AuditPage,
});

function toIso(value: string | null): string | undefined {
  if (!value) return undefined;
  const date = new Date(value.replace(" ", "T"));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function AuditPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const form = useForm({
    initialValues: {
      actor: search.actor ?? "",
      action: search.action ?? "",
      object_type: search.object_type ?? "",
      object_id: search.object_id ?? "",
      since: search.since ?? null,
      until: search.until ?? null,
    },
  });
  const apply = form.onSubmit((v) => {
    const next: AuditSearch = {
      actor: v.actor.trim() || undefined,
      action: v.action.trim() || undefined,
      object_type: v.object_type.trim() || undefined,
      object_id: v.object_id.trim() || undefined,
      since: toIso(v.since),
      until: toIso(v.until),
    };
    void navigate({ search: next });
  });
  const query: Filters = { ...search, limit: 100 };
  const audit = useInfiniteQuery({
    ...listAuditInfiniteOptions({ query }),
    // The first page: no cursor. (The generated options read an object page param as parameters to merge.)
    initialPageParam: {},
    getNextPageParam: (last) => (last.next_cursor ? Number(last.next_cursor) : undefined),
  });
  const rows = audit.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="audit-title">
      <Title order={2} size="h4" id="audit-title" mb="sm">
        Audit log
      </Title>
      <form onSubmit={apply}>
        <Group align="flex-end" gap="sm" wrap="wrap" mb="md">
          <TextInput label="Who" placeholder="e-mail or user id" w={200} {...form.getInputProps("actor")} />
          <TextInput label="Action" placeholder="e.g. role_changed" w={200} {...form.getInputProps("action")} />
          <TextInput label="Object type" w={150} {...form.getInputProps("object_type")} />
          <TextInput label="Object id" w={180} {...form.getInputProps("object_id")} />
          <DateTimePicker label="From" clearable w={190} valueFormat="YYYY-MM-DD HH:mm" {...form.getInputProps("since")} />
          <DateTimePicker label="Until" clearable w={190} valueFormat="YYYY-MM-DD HH:mm" {...form.getInputProps("until")} />
          <Button type="submit">Filter</Button>
        </Group>
      </form>
      {audit.isPending ? (
        <Loading label="Loading the audit log" />
      ) : audit.isError ? (
        <ErrorState error={audit.error} onRetry={() => void audit.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title="Nothing recorded for these filters" />
      ) : (
        <>
          <Table.ScrollContainer minWidth={900}>
            <Table aria-label="Audit log" verticalSpacing="xs" fz="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Who</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Object</Table.Th>
                  <Table.Th>From</Table.Th>
                  <Table.Th>Detail</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td>
                      <RelativeTime value={e.at} />
                    </Table.Td>
                    <Table.Td>{e.actor_email ?? e.actor_id ?? "–"}</Table.Td>
                    <Table.Td>
                      <Code>{e.action}</Code>
                    </Table.Td>
                    <Table.Td>{e.object_type ? `${e.object_type} ${e.object_id ?? ""}` : "–"}</Table.Td>
                    <Table.Td>{e.ip ?? "–"}</Table.Td>
                    <Table.Td>
                      {e.detail ? (
                        <Text size="xs" ff="monospace" lineClamp={2} style={{ wordBreak: "break-all" }}>
                          {JSON.stringify(e.detail)}
                        </Text>
                      ) : (
                        "–"
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group mt="sm">
            <Text size="xs" c="dimmed">
              Showing {formatCount(rows.length)}, newest first
            </Text>
            {audit.hasNextPage ? (
              <Button size="xs" variant="light" onClick={() => void audit.fetchNextPage()} loading={audit.isFetchingNextPage}>
                Load older entries
              </Button>
            ) : null}
          </Group>
        </>
      )}
    </Paper>
  );
}
