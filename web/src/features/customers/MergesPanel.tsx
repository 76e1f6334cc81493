// Merges of this profile (undone by admins) and identity conflicts that name it.
import { Badge, Button, Code, Stack, Table, Text, Title } from "@mantine/core";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { errorMessage } from "../../api/errors";
import { listConflictsOptions, listMergesOptions, listMergesQueryKey, undoMutation } from "../../client/profiles/@tanstack/react-query.gen";
import type { MergeRead } from "../../client/profiles/types.gen";
import { AdminAccess } from "../../components/Access";
import { RelativeTime } from "../../components/Freshness";
import { AnchorLink } from "../../components/links";
import { QueryState } from "../../components/QueryState";

function identities(pairs: string[][]): string {
  return pairs.map(([kind, value]) => `${kind}: ${value}`).join(", ") || "–";
}

export function MergesPanel({ profileId }: { profileId: string }) {
  const merges = useQuery(listMergesOptions({ path: { profile_id: profileId } }));
  const conflicts = useQuery(listConflictsOptions({ query: { limit: 500 } }));
  const queryClient = useQueryClient();
  const undo = useMutation({
    ...undoMutation(),
    onSuccess: async () => {
      notifications.show({ color: "green", message: "The merge is undone: the identities it moved are back on their own profile." });
      await queryClient.invalidateQueries({ queryKey: listMergesQueryKey({ path: { profile_id: profileId } }) });
    },
    onError: (error) => notifications.show({ color: "red", title: "Not undone", message: errorMessage(error) }),
  });
  const confirmUndo = (merge: MergeRead) =>
    modals.openConfirmModal({
      title: "Undo this merge?",
      children: <Text size="sm">The identities it moved ({identities(merge.moved_identities)}) go back to a profile of their own.</Text>,
      labels: { confirm: "Undo merge", cancel: "Cancel" },
      onConfirm: () => undo.mutate({ path: { merge_id: merge.id } }),
    });
  return (
    <Stack gap="lg">
      <section aria-labelledby="merges-title">
        <Title order={3} size="h5" id="merges-title" mb="xs">
          Merges
        </Title>
        <QueryState query={merges} isEmpty={(m) => m.length === 0} empty={<Text size="sm" c="dimmed">This profile was never merged.</Text>}>
          {(rows) => (
            <Table.ScrollContainer minWidth={680}>
              <Table aria-label="Merges" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Kept / merged</Table.Th>
                    <Table.Th>Why</Table.Th>
                    <Table.Th>Identities moved</Table.Th>
                    <Table.Th>State</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map((m) => (
                    <Table.Tr key={m.id}>
                      <Table.Td>
                        <RelativeTime value={m.created_at} />
                      </Table.Td>
                      <Table.Td>
                        <Code>{m.kept_id.slice(0, 8)}</Code> ← <Code>{m.merged_id.slice(0, 8)}</Code>
                      </Table.Td>
                      <Table.Td>{m.reason}</Table.Td>
                      <Table.Td>{identities(m.moved_identities)}</Table.Td>
                      <Table.Td>
                        {m.undone_at ? (
                          <Badge color="gray" variant="light">
                            Undone
                          </Badge>
                        ) : (
                          <AdminAccess fallback={<Badge variant="light">Merged</Badge>}>
                            <Button size="xs" variant="light" color="orange" onClick={() => confirmUndo(m)}>
                              Undo merge
                            </Button>
                          </AdminAccess>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </QueryState>
      </section>
      <section aria-labelledby="conflicts-title">
        <Title order={3} size="h5" id="conflicts-title" mb="xs">
          Identity conflicts
        </Title>
        <QueryState query={conflicts}>
          {(all) => {
            const mine = all.filter((c) => c.profile_ids.includes(profileId));
            if (!mine.length) return <Text size="sm" c="dimmed">No event tried to join this customer with another known person.</Text>;
            return (
              <Table aria-label="Identity conflicts" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Profiles</Table.Th>
                    <Table.Th>Identities in the event</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {mine.map((c) => (
                    <Table.Tr key={c.id}>
                      <Table.Td>
                        <RelativeTime value={c.created_at} />
                      </Table.Td>
                      <Table.Td>
                        {c.profile_ids.map((id, i) => (
                          <span key={id}>
                            {i ? ", " : ""}
                            {id === profileId ? (
                              "this one"
                            ) : (
                              <AnchorLink to="/customers/$profileId" params={{ profileId: id }}>
                                {id.slice(0, 8)}
                              </AnchorLink>
                            )}
                          </span>
                        ))}
                      </Table.Td>
                      <Table.Td>{identities(c.identities)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            );
          }}
        </QueryState>
      </section>
    </Stack>
  );
}
