// One customer: who they are (identities, traits, computed traits), what they agreed to, which segments they are in
// and why, their scores, what they did, merges and conflicts, and erasure for admins.
import { Badge, Code, Group, Paper, SimpleGrid, Stack, Table, Tabs, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";

import { getProfileOptions } from "../../client/profiles/@tanstack/react-query.gen";
import type { ProfileRead } from "../../client/profiles/types.gen";
import { AdminAccess } from "../../components/Access";
import { Freshness, RelativeTime } from "../../components/Freshness";
import { PageHeader } from "../../components/PageHeader";
import { QueryState } from "../../components/QueryState";
import { computedLabel, computedRows, formatComputed } from "../../features/customers/computed";
import { ConsentPanel } from "../../features/customers/ConsentPanel";
import { EngagementScore } from "../../features/customers/EngagementScore";
import { ErasePanel } from "../../features/customers/ErasePanel";
import { MergesPanel } from "../../features/customers/MergesPanel";
import { ProfileScores } from "../../features/customers/ProfileScores";
import { ProfileSegments } from "../../features/customers/ProfileSegments";
import { profileLabel, profileName } from "../../features/customers/profiles";
import { Timeline } from "../../features/customers/Timeline";
import { formatValue } from "../../lib/format";

const TABS = ["profile", "consent", "segments", "scores", "timeline", "merges", "erase"] as const;
type Tab = (typeof TABS)[number];

export const Route = createFileRoute("/_console/customers/$profileId")({
  validateSearch: (search: Record<string, unknown>): { tab?: Tab } =>
    TABS.includes(search.tab as Tab) ? { tab: search.tab as Tab } : {},
  component: ProfilePage,
});

function ProfilePage() {
  const { profileId } = Route.useParams();
  const profile = useQuery(getProfileOptions({ path: { profile_id: profileId } }));
  return (
    <QueryState query={profile} loadingLabel="Loading the customer" errorTitle="Could not load this customer">
      {(p) => <ProfileView profile={p} fetchedAt={profile.dataUpdatedAt} />}
    </QueryState>
  );
}

function KeyValues({ label, rows }: { label: string; rows: [string, string][] }) {
  if (!rows.length) return <Text size="sm" c="dimmed">None.</Text>;
  return (
    <Table aria-label={label} verticalSpacing={4} fz="sm">
      <Table.Tbody>
        {rows.map(([key, value]) => (
          <Table.Tr key={key}>
            <Table.Th w="40%" fw={500}>
              {key}
            </Table.Th>
            <Table.Td style={{ wordBreak: "break-word" }}>{value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function ProfileView({ profile, fetchedAt }: { profile: ProfileRead; fetchedAt: number }) {
  const { tab = "profile" } = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const name = profileName(profile);
  return (
    <>
      <PageHeader
        title={profileLabel(profile)}
        description={name ?? undefined}
        meta={
          <Group gap="xs" wrap="wrap">
            <Text size="xs" c="dimmed">
              Profile <Code>{profile.id}</Code> · first seen <RelativeTime value={profile.first_seen_at} /> · last seen{" "}
              <RelativeTime value={profile.last_seen_at} />
            </Text>
            <Freshness fetchedAt={fetchedAt} />
          </Group>
        }
      />
      <Tabs value={tab} onChange={(value) => void navigate({ search: { tab: (value as Tab | null) ?? undefined }, replace: true })} keepMounted={false}>
        <Tabs.List mb="md" style={{ overflowX: "auto", flexWrap: "nowrap" }}>
          <Tabs.Tab value="profile">Profile</Tabs.Tab>
          <Tabs.Tab value="consent">Consent</Tabs.Tab>
          <Tabs.Tab value="segments">Segments</Tabs.Tab>
          <Tabs.Tab value="scores">Scores</Tabs.Tab>
          <Tabs.Tab value="timeline">Timeline</Tabs.Tab>
          <Tabs.Tab value="merges">Merges</Tabs.Tab>
          <AdminAccess>
            <Tabs.Tab value="erase" color="red">
              Erase
            </Tabs.Tab>
          </AdminAccess>
        </Tabs.List>
        <Tabs.Panel value="profile">
          <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} spacing="lg" mb="lg">
            <EngagementScore computed={profile.computed} fetchedAt={fetchedAt} />
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, md: 3 }} spacing="lg">
            <Paper withBorder p="md">
              <Title order={2} size="h5" mb="xs">
                Identities
              </Title>
              <Stack gap={4}>
                {profile.identities.map((i) => (
                  <Group key={`${i.kind}:${i.value}`} gap="xs" wrap="nowrap">
                    <Badge variant="light" size="sm" style={{ flexShrink: 0 }}>
                      {i.kind.replaceAll("_", " ")}
                    </Badge>
                    <Text size="sm" style={{ wordBreak: "break-all" }}>
                      {i.value}
                    </Text>
                  </Group>
                ))}
              </Stack>
            </Paper>
            <Paper withBorder p="md">
              <Title order={2} size="h5" mb="xs">
                Traits
              </Title>
              <KeyValues label="Traits" rows={Object.entries(profile.traits).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, formatValue(v)])} />
            </Paper>
            <Paper withBorder p="md">
              <Title order={2} size="h5" mb="xs">
                Computed traits
              </Title>
              <KeyValues label="Computed traits" rows={computedRows(profile.computed).map(([k, v]) => [computedLabel(k), formatComputed(k, v)])} />
            </Paper>
          </SimpleGrid>
        </Tabs.Panel>
        <Tabs.Panel value="consent">
          <ConsentPanel profile={profile} />
        </Tabs.Panel>
        <Tabs.Panel value="segments">
          <ProfileSegments profileId={profile.id} />
        </Tabs.Panel>
        <Tabs.Panel value="scores">
          <ProfileScores profileId={profile.id} />
        </Tabs.Panel>
        <Tabs.Panel value="timeline">
          <Timeline profileId={profile.id} />
        </Tabs.Panel>
        <Tabs.Panel value="merges">
          <MergesPanel profileId={profile.id} />
        </Tabs.Panel>
        <AdminAccess>
          <Tabs.Panel value="erase">
            <ErasePanel profile={profile} />
          </Tabs.Panel>
        </AdminAccess>
      </Tabs>
    </>
  );
}
