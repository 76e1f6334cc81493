// API keys for integrations (admins): created with a role, shown once, revoked at will.
import { Badge, Button, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";

import { errorMessage, fieldErrors } from "../../api/errors";
import { createApiKeyMutation, listApiKeysOptions, listApiKeysQueryKey, revokeApiKeyMutation } from "../../client/console/@tanstack/react-query.gen";
import type { ApiKeyRead as ApiKey } from "../../client/console/types.gen";
import type { Role } from "../../auth/session";
import { ROLE_LABELS } from "../../auth/session";
import { AdminAccess } from "../../components/Access";
import { RelativeTime } from "../../components/Freshness";
import { QueryState } from "../../components/QueryState";
import { SecretReveal } from "../../components/SecretReveal";

export const Route = createFileRoute("/_console/settings/api-keys")({
  component: ApiKeysPage,
});

function CreateKey() {
  const queryClient = useQueryClient();
  const form = useForm<{ name: string; role: Role }>({
    initialValues: { name: "", role: "analyst" },
    validate: { name: (v) => (v.trim() ? null : "Name the key after what uses it.") },
  });
  const create = useMutation({
    ...createApiKeyMutation(),
    onSuccess: async () => {
      form.reset();
      await queryClient.invalidateQueries({ queryKey: listApiKeysQueryKey() });
    },
    onError: (error) => form.setErrors(fieldErrors(error)),
  });
  return (
    <Stack gap="sm">
      <form noValidate onSubmit={form.onSubmit((v) => create.mutate({ body: { name: v.name.trim(), role: v.role } }))}>
        <Group align="flex-start" gap="sm" wrap="wrap">
          <TextInput label="Name" placeholder="e.g. CRM sync" w={260} {...form.getInputProps("name")} />
          <Select
            label="Role"
            data={(["analyst", "marketer", "admin"] as Role[]).map((r) => ({ value: r, label: ROLE_LABELS[r] }))}
            allowDeselect={false}
            w={160}
            {...form.getInputProps("role")}
          />
          <Button type="submit" mt={25} loading={create.isPending}>
            Create key
          </Button>
        </Group>
      </form>
      {create.data ? <SecretReveal title={`Key “${create.data.name}”`} secret={create.data.key} label="API key" /> : null}
    </Stack>
  );
}

function ApiKeysPage() {
  const keys = useQuery(listApiKeysOptions());
  const queryClient = useQueryClient();
  const revoke = useMutation({
    ...revokeApiKeyMutation(),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: listApiKeysQueryKey() });
      notifications.show({ color: "green", message: "Revoked: services refuse it within 30 seconds." });
    },
    onError: (error) => notifications.show({ color: "red", title: "Not revoked", message: errorMessage(error) }),
  });
  const confirmRevoke = (key: ApiKey) =>
    modals.openConfirmModal({
      title: `Revoke “${key.name}”?`,
      children: <Text size="sm">Whatever uses it stops working within 30 seconds. This cannot be undone.</Text>,
      labels: { confirm: "Revoke key", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => revoke.mutate({ path: { key_id: key.id } }),
    });
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="keys-title">
      <Title order={2} size="h4" id="keys-title" mb="sm">
        API keys
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        For systems that call the services directly. Only a hint of each key is kept; the key itself is shown once.
      </Text>
      <AdminAccess>
        <CreateKey />
      </AdminAccess>
      <QueryState query={keys} isEmpty={(d) => d.length === 0} empty={<Text size="sm" c="dimmed" mt="sm">No keys yet.</Text>}>
        {(rows) => (
          <Table.ScrollContainer minWidth={760} mt="md">
            <Table aria-label="API keys" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Key</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Last used</Table.Th>
                  <Table.Th>State</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((k) => (
                  <Table.Tr key={k.id}>
                    <Table.Td>{k.name}</Table.Td>
                    <Table.Td>{ROLE_LABELS[k.role]}</Table.Td>
                    <Table.Td>
                      <Text ff="monospace" size="sm">
                        {k.hint}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <RelativeTime value={k.created_at} />
                      {k.created_by ? <Text size="xs" c="dimmed">by {k.created_by}</Text> : null}
                    </Table.Td>
                    <Table.Td>
                      <RelativeTime value={k.last_used_at} />
                    </Table.Td>
                    <Table.Td>
                      {k.revoked_at ? (
                        <Badge color="gray" variant="light">
                          revoked
                        </Badge>
                      ) : (
                        <AdminAccess fallback={<Badge variant="light" color="green">active</Badge>}>
                          <Button size="xs" variant="light" color="red" aria-label={`Revoke ${k.name}`} onClick={() => confirmRevoke(k)}>
                            Revoke
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
    </Paper>
  );
}
