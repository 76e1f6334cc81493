// Customers: find one by e-mail or id, or list those whose traits match filters.
import { ActionIcon, Autocomplete, Button, Group, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { IconPlus, IconTrash } from "@tabler/icons-react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import { useState } from "react";

import { listProfiles } from "../../client/profiles/sdk.gen";
import type { ListProfilesData } from "../../client/profiles/types.gen";
import { RelativeTime } from "../../components/Freshness";
import { AnchorLink } from "../../components/links";
import { PageHeader } from "../../components/PageHeader";
import { Empty, ErrorState, Loading } from "../../components/QueryState";
import { FindProfile } from "../../features/customers/FindProfile";
import { profileLabel, profileName } from "../../features/customers/profiles";
import { useKeySuggestions } from "../../features/segments/suggestions";
import { formatCount, formatCurrency } from "../../lib/format";

interface TraitFilter {
  key: string;
  value: string;
}

interface CustomersSearch {
  filters?: TraitFilter[];
}

function readFilters(value: unknown): TraitFilter[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const filters = value
    .map((f: unknown) => (f && typeof f === "object" ? (f as Record<string, unknown>) : {}))
    .filter((f) => typeof f.key === "string" && typeof f.value === "string")
    .map((f) => ({ key: f.key as string, value: f.value as string }));
  return filters.length ? filters : undefined;
}

export const Route = createFileRoute("/_console/customers/")({
  validateSearch: (search: Record<string, unknown>): CustomersSearch => ({ filters: readFilters(search.filters) }),
  component: CustomersPage,
});

function CustomersPage() {
  const { filters } = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  return (
    <>
      <PageHeader title="Customers" description="Find a customer, or list those whose traits match." />
      <Stack gap="lg">
        <Paper withBorder p="md" component="section" aria-labelledby="find-title">
          <Title order={2} size="h4" id="find-title" mb="sm">
            Find a customer
          </Title>
          <FindProfile submitLabel="Open" onFound={(p) => void navigate({ to: "/customers/$profileId", params: { profileId: p.id } })} />
        </Paper>
        <Paper withBorder p="md" component="section" aria-labelledby="filter-title">
          <Title order={2} size="h4" id="filter-title" mb="sm">
            Customers by trait
          </Title>
          <FilterForm initial={filters ?? []} onApply={(next) => void navigate({ search: { filters: next.length ? next : undefined } })} />
          <ProfileList filters={filters ?? []} />
        </Paper>
      </Stack>
    </>
  );
}

function FilterRow({
  filter,
  index,
  onChange,
  onRemove,
}: {
  filter: TraitFilter;
  index: number;
  onChange: (f: TraitFilter) => void;
  onRemove: () => void;
}) {
  const keys = useKeySuggestions("traits", filter.key);
  return (
    <Group gap="xs" align="flex-end" wrap="wrap" role="group" aria-label={`Filter ${index + 1}`}>
      <Autocomplete label="Trait" data={keys.map((k) => k.value)} value={filter.key} onChange={(key) => onChange({ ...filter, key })} w={200} />
      <Text size="sm" pb={8}>
        equals
      </Text>
      <TextInput label="Value" value={filter.value} onChange={(e) => onChange({ ...filter, value: e.currentTarget.value })} w={200} />
      <ActionIcon variant="subtle" color="red" aria-label={`Remove filter ${index + 1}`} onClick={onRemove} mb={4}>
        <IconTrash size={16} aria-hidden />
      </ActionIcon>
    </Group>
  );
}

function FilterForm({ initial, onApply }: { initial: TraitFilter[]; onApply: (filters: TraitFilter[]) => void }) {
  const [filters, setFilters] = useState<TraitFilter[]>(initial.length ? initial : []);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        onApply(filters.filter((f) => f.key.trim()).map((f) => ({ key: f.key.trim(), value: f.value })));
      }}
    >
      <Stack gap="xs" mb="md">
        {filters.map((f, i) => (
          <FilterRow
            key={i}
            index={i}
            filter={f}
            onChange={(next) => setFilters(filters.map((old, j) => (j === i ? next : old)))}
            onRemove={() => setFilters(filters.filter((_, j) => j !== i))}
          />
        ))}
        <Group gap="xs">
          <Button variant="light" size="xs" leftSection={<IconPlus size={14} aria-hidden />} onClick={() => setFilters([...filters, { key: "", value: "" }])}>
            Add a trait filter
          </Button>
          <Button type="submit" size="xs">
            {filters.length ? "Show matching customers" : "Show all customers"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function ProfileList({ filters }: { filters: TraitFilter[] }) {
  // Trait filters are `traits.<name>=<value>` query parameters, which profiles' OpenAPI document does not list.
  const traitQuery = Object.fromEntries(filters.map((f) => [`traits.${f.key}`, f.value]));
  const profiles = useInfiniteQuery({
    queryKey: ["profiles-list", traitQuery],
    queryFn: async ({ pageParam, signal }) => {
      const query = { ...traitQuery, limit: 50, cursor: pageParam } as ListProfilesData["query"];
      return (await listProfiles({ query, signal, throwOnError: true })).data;
    },
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  if (profiles.isPending) return <Loading label="Loading customers" />;
  if (profiles.isError) return <ErrorState error={profiles.error} onRetry={() => void profiles.refetch()} />;
  const rows = profiles.data.pages.flatMap((p) => p.items);
  if (!rows.length) return <Empty title={filters.length ? "No customer has these traits" : "No customers yet"} />;
  return (
    <>
      <Table.ScrollContainer minWidth={720}>
        <Table verticalSpacing="xs" highlightOnHover aria-label="Customers">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Customer</Table.Th>
              <Table.Th>Name</Table.Th>
              <Table.Th ta="right">Orders</Table.Th>
              <Table.Th ta="right">Revenue</Table.Th>
              <Table.Th>First seen</Table.Th>
              <Table.Th>Last seen</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((p) => (
              <Table.Tr key={p.id}>
                <Table.Td>
                  <AnchorLink to="/customers/$profileId" params={{ profileId: p.id }}>
                    {profileLabel(p)}
                  </AnchorLink>
                </Table.Td>
                <Table.Td>{profileName(p) ?? "–"}</Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatCount(typeof p.computed.orders === "number" ? p.computed.orders : null)}
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatCurrency(typeof p.computed.revenue === "number" ? p.computed.revenue : null)}
                </Table.Td>
                <Table.Td>
                  <RelativeTime value={p.first_seen_at} />
                </Table.Td>
                <Table.Td>
                  <RelativeTime value={p.last_seen_at} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Group mt="sm">
        <Text size="xs" c="dimmed">
          Showing {formatCount(rows.length)}
        </Text>
        {profiles.hasNextPage ? (
          <Button size="xs" variant="light" onClick={() => void profiles.fetchNextPage()} loading={profiles.isFetchingNextPage}>
            Load more customers
          </Button>
        ) : null}
      </Group>
    </>
  );
}
