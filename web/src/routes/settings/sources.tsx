// Tracking sources (admins): write keys (shown once, rotated at will), IP anonymisation, trust, and the website tag
// to paste, filled in with the tracking host and the key.
import { Alert, Button, Checkbox, Code, Group, Paper, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useLocalStorage } from "@mantine/hooks";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState } from "react";

import { errorMessage, fieldErrors } from "../../api/errors";
import {
  createSourceRouteMutation,
  deleteSourceRouteMutation,
  listSourcesRouteOptions,
  listSourcesRouteQueryKey,
  rotateKeyRouteMutation,
  updateSourceRouteMutation,
} from "../../client/tracking/@tanstack/react-query.gen";
import type { SourceRead, SourceWithKey } from "../../client/tracking/types.gen";
import { AdminAccess } from "../../components/Access";
import { usePermissions } from "../../auth/session";
import { RelativeTime } from "../../components/Freshness";
import { QueryState } from "../../components/QueryState";
import { CopyValue, SecretReveal } from "../../components/SecretReveal";
import { tagSnippet } from "../../features/settings/snippet";

export const Route = createFileRoute("/_console/settings/sources")({
  component: SourcesPage,
});

function SourcesPage() {
  const [revealed, setRevealed] = useState<SourceWithKey | null>(null);
  return (
    <Stack gap="lg">
      <Sources onKey={setRevealed} />
      {revealed ? <SecretReveal title={`Write key of “${revealed.name}”`} secret={revealed.write_key} label="write key" /> : null}
      <Snippet writeKey={revealed?.write_key ?? null} />
    </Stack>
  );
}

function Sources({ onKey }: { onKey: (source: SourceWithKey) => void }) {
  const sources = useQuery(listSourcesRouteOptions());
  const { isAdmin } = usePermissions();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: listSourcesRouteQueryKey() });
  const fail = (title: string) => (error: unknown) => notifications.show({ color: "red", title, message: errorMessage(error) });
  const update = useMutation({ ...updateSourceRouteMutation(), onSuccess: refresh, onError: fail("Not changed") });
  const rotate = useMutation({
    ...rotateKeyRouteMutation(),
    onSuccess: async (source) => {
      onKey(source);
      await refresh();
    },
    onError: fail("Not rotated"),
  });
  const remove = useMutation({ ...deleteSourceRouteMutation(), onSuccess: refresh, onError: fail("Not deleted") });
  const confirm = (title: string, body: string, label: string, action: () => void) =>
    modals.openConfirmModal({ title, children: <Text size="sm">{body}</Text>, labels: { confirm: label, cancel: "Cancel" }, confirmProps: { color: "red" }, onConfirm: action });
  const set = (s: SourceRead, body: Partial<Pick<SourceRead, "enabled" | "anonymize_ip" | "trusted">>) =>
    update.mutate({ path: { source_id: s.id }, body });
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="sources-title">
      <Title order={2} size="h4" id="sources-title" mb="sm">
        Sources
      </Title>
      <AdminAccess>
        <CreateSource onKey={onKey} />
      </AdminAccess>
      <QueryState query={sources} isEmpty={(d) => d.length === 0} empty={<Text size="sm" c="dimmed">No sources.</Text>}>
        {(rows) => (
          <Table.ScrollContainer minWidth={900} mt="md">
            <Table aria-label="Sources" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Write key</Table.Th>
                  <Table.Th>Enabled</Table.Th>
                  <Table.Th>Anonymise IP</Table.Th>
                  <Table.Th>Trusted</Table.Th>
                  <Table.Th>Key rotated</Table.Th>
                  <Table.Th>Actions</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((s) => (
                  <Table.Tr key={s.id}>
                    <Table.Td>{s.name}</Table.Td>
                    <Table.Td>
                      <Code>{s.write_key_hint}</Code>
                    </Table.Td>
                    <Table.Td>
                      <Switch aria-label={`${s.name} enabled`} checked={s.enabled} disabled={!isAdmin} onChange={(e) => set(s, { enabled: e.currentTarget.checked })} />
                    </Table.Td>
                    <Table.Td>
                      <Switch aria-label={`${s.name} anonymises IP addresses`} checked={s.anonymize_ip} disabled={!isAdmin} onChange={(e) => set(s, { anonymize_ip: e.currentTarget.checked })} />
                    </Table.Td>
                    <Table.Td>
                      <Switch aria-label={`${s.name} is trusted`} checked={s.trusted} disabled={!isAdmin} onChange={(e) => set(s, { trusted: e.currentTarget.checked })} />
                    </Table.Td>
                    <Table.Td>
                      <RelativeTime value={s.rotated_at ?? s.created_at} />
                    </Table.Td>
                    <Table.Td>
                      <AdminAccess>
                        <Group gap="xs" wrap="nowrap">
                          <Button
                            size="xs"
                            variant="light"
                            aria-label={`Rotate the write key of ${s.name}`}
                            onClick={() =>
                              confirm(`Rotate the write key of “${s.name}”?`, "The old key stops working at once: update every page and system that sends with it.", "Rotate key", () =>
                                rotate.mutate({ path: { source_id: s.id } }),
                              )
                            }
                          >
                            Rotate key
                          </Button>
                          <Button
                            size="xs"
                            variant="subtle"
                            color="red"
                            aria-label={`Delete ${s.name}`}
                            onClick={() => confirm(`Delete “${s.name}”?`, "Events sent with its key are refused from then on.", "Delete source", () => remove.mutate({ path: { source_id: s.id } }))}
                          >
                            Delete
                          </Button>
                        </Group>
                      </AdminAccess>
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

function CreateSource({ onKey }: { onKey: (source: SourceWithKey) => void }) {
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { name: "", anonymize_ip: true, trusted: false },
    validate: { name: (v: string) => (v.trim() ? null : "Name the source (e.g. the website).") },
  });
  const create = useMutation({
    ...createSourceRouteMutation(),
    onSuccess: async (source) => {
      onKey(source);
      form.reset();
      await queryClient.invalidateQueries({ queryKey: listSourcesRouteQueryKey() });
    },
    onError: (error) => form.setErrors(fieldErrors(error)),
  });
  return (
    <form noValidate onSubmit={form.onSubmit((v) => create.mutate({ body: { ...v, name: v.name.trim() } }))}>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <TextInput label="New source" placeholder="e.g. Web shop" w={240} {...form.getInputProps("name")} />
        <Checkbox label="Anonymise IP addresses" mb={8} {...form.getInputProps("anonymize_ip", { type: "checkbox" })} />
        <Checkbox label="Trusted (a backend or CRM, not a browser)" mb={8} {...form.getInputProps("trusted", { type: "checkbox" })} />
        <Button type="submit" loading={create.isPending}>
          Create source
        </Button>
      </Group>
      {create.isError && !Object.keys(fieldErrors(create.error)).length ? (
        <Alert color="red" mt="sm" role="alert">
          {errorMessage(create.error)}
        </Alert>
      ) : null}
    </form>
  );
}

function defaultTrackingHost(): string {
  return `${window.location.protocol}//${window.location.hostname}:8001`;
}

function Snippet({ writeKey }: { writeKey: string | null }) {
  const [host, setHost] = useLocalStorage({ key: "tessera.trackingHost", defaultValue: defaultTrackingHost() });
  const snippet = tagSnippet(host, writeKey ?? "WRITE_KEY");
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="snippet-title">
      <Title order={2} size="h4" id="snippet-title" mb="xs">
        Website tag
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Paste this into the &lt;head&gt; of every page. It records page views on its own; call <Code>tessera.track()</Code> and{" "}
        <Code>tessera.identify()</Code> for the rest.
        {writeKey ? "" : " Create a source or rotate a key to have its write key filled in (keys are shown once)."}
      </Text>
      <TextInput
        label="Tracking host"
        description="How browsers reach the tracking service"
        value={host}
        onChange={(e) => setHost(e.currentTarget.value)}
        maw={420}
        mb="sm"
      />
      <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }} aria-label="Website tag snippet">
        {snippet}
      </Code>
      <Group mt="xs">
        <CopyValue value={snippet} label="website tag snippet" />
      </Group>
    </Paper>
  );
}
