// The segments a customer is in now and was in before, with times, and why.
import { Group, Select, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";

import { listProfileSegmentsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import { RelativeTime } from "../../components/Freshness";
import { AnchorLink } from "../../components/links";
import { Empty, QueryState } from "../../components/QueryState";
import { formatDateTime } from "../../lib/format";
import { useSegmentNames, useSegments } from "../segments/suggestions";

export function ProfileSegments({ profileId }: { profileId: string }) {
  const memberships = useQuery(listProfileSegmentsOptions({ path: { profile_id: profileId } }));
  const names = useSegmentNames();
  const segments = useSegments();
  const navigate = useNavigate();
  return (
    <QueryState query={memberships} loadingLabel="Loading segments">
      {({ current, past }) => (
        <Stack gap="lg">
          <section aria-labelledby="current-title">
            <Title order={3} size="h5" id="current-title" mb="xs">
              In now
            </Title>
            {current.length === 0 ? (
              <Empty title="In no segment right now" />
            ) : (
              <Table aria-label="Current segments" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Segment</Table.Th>
                    <Table.Th>Entered</Table.Th>
                    <Table.Th>Why</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {current.map((m) => (
                    <Table.Tr key={m.segment_id}>
                      <Table.Td>
                        <AnchorLink to="/segments/$segmentId" params={{ segmentId: m.segment_id }}>
                          {names(m.segment_id)}
                        </AnchorLink>
                      </Table.Td>
                      <Table.Td>
                        <RelativeTime value={m.entered_at} />
                      </Table.Td>
                      <Table.Td>
                        <AnchorLink
                          to="/segments/$segmentId/explain"
                          params={{ segmentId: m.segment_id }}
                          search={{ profile: profileId }}
                          aria-label={`Why in ${names(m.segment_id)}?`}
                        >
                          Why?
                        </AnchorLink>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </section>
          <section aria-labelledby="past-title">
            <Title order={3} size="h5" id="past-title" mb="xs">
              Was in
            </Title>
            {past.length === 0 ? (
              <Text size="sm" c="dimmed">
                No earlier memberships.
              </Text>
            ) : (
              <Table aria-label="Past segments" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Segment</Table.Th>
                    <Table.Th>Entered</Table.Th>
                    <Table.Th>Left</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {past.map((m) => (
                    <Table.Tr key={`${m.segment_id}-${m.entered_at}`}>
                      <Table.Td>
                        <AnchorLink to="/segments/$segmentId" params={{ segmentId: m.segment_id }}>
                          {names(m.segment_id)}
                        </AnchorLink>
                      </Table.Td>
                      <Table.Td>{formatDateTime(m.entered_at)}</Table.Td>
                      <Table.Td>{formatDateTime(m.exited_at)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </section>
          <Group align="flex-end">
            <Select
              label="Why is this customer not in…"
              placeholder="Choose a segment"
              data={segments.filter((s) => !current.some((c) => c.segment_id === s.id)).map((s) => ({ value: s.id, label: s.name }))}
              searchable
              w={320}
              onChange={(segmentId) => {
                if (segmentId) void navigate({ to: "/segments/$segmentId/explain", params: { segmentId }, search: { profile: profileId } });
              }}
            />
          </Group>
        </Stack>
      )}
    </QueryState>
  );
}
