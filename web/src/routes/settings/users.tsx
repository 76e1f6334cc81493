// Users and invitations (admins): roles, deactivation, invitation links to copy.
import { Alert, Badge, Button, Group, Paper, Select, Stack, Switch, Table, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";

import { errorMessage, fieldErrors } from "../../api/errors";
import {
  createInvitationMutation,
  deleteInvitationMutation,
  listInvitationsOptions,
  listInvitationsQueryKey,
  listUsersOptions,
  listUsersQueryKey,
  updateUserMutation,
} from "../../client/console/@tanstack/react-query.gen";
import type { InvitationRead as Invitation, UserRead as User } from "../../client/console/types.gen";
import type { Role } from "../../auth/session";
import { ROLE_LABELS, usePermissions } from "../../auth/session";
import { AdminAccess } from "../../components/Access";
import { RelativeTime } from "../../components/Freshness";
import { QueryState } from "../../components/QueryState";
import { CopyValue } from "../../components/SecretReveal";

export const Route = createFileRoute("/_console/settings/users")({
  component: UsersPage,
});

const ROLES: { value: Role; label: string }[] = [
  { value: "analyst", label: "Analyst (reads)" },
  { value: "marketer", label: "Marketer (reads and changes)" },
  { value: "admin", label: "Admin (everything)" },
];

function UsersPage() {
  return (
    <Stack gap="lg">
      <Users />
      <Invitations />
    </Stack>
  );
}

function Users() {
  const users = useQuery(listUsersOptions());
  const queryClient = useQueryClient();
  const { me, isAdmin } = usePermissions();
  const update = useMutation({
    ...updateUserMutation(),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: listUsersQueryKey() });
      notifications.show({ color: "green", message: "Saved." });
    },
    onError: (error) => notifications.show({ color: "red", title: "Not saved", message: errorMessage(error) }),
  });
  const setActive = (user: User, active: boolean) => {
    if (active) return update.mutate({ path: { user_id: user.id }, body: { active } });
    modals.openConfirmModal({
      title: `Deactivate ${user.name}?`,
      children: <Text size="sm">They are logged out at once and can no longer log in. You can reactivate them later.</Text>,
      labels: { confirm: "Deactivate", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () => update.mutate({ path: { user_id: user.id }, body: { active } }),
    });
  };
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="users-title">
      <Title order={2} size="h4" id="users-title" mb="sm">
        Users
      </Title>
      <QueryState query={users} loadingLabel="Loading users">
        {(rows) => (
          <Table.ScrollContainer minWidth={760}>
            <Table aria-label="Users" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>E-mail</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Active</Table.Th>
                  <Table.Th>Last login</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((u) => {
                  const self = u.id === me?.id;
                  return (
                    <Table.Tr key={u.id}>
                      <Table.Td>
                        {u.name} {self ? <Badge size="xs" variant="light">you</Badge> : null}
                      </Table.Td>
                      <Table.Td>{u.email}</Table.Td>
                      <Table.Td>
                        {isAdmin && !self ? (
                          <Select
                            aria-label={`Role of ${u.name}`}
                            data={ROLES}
                            value={u.role}
                            allowDeselect={false}
                            size="xs"
                            w={250}
                            onChange={(role) => role && role !== u.role && update.mutate({ path: { user_id: u.id }, body: { role } })}
                          />
                        ) : (
                          ROLE_LABELS[u.role]
                        )}
                      </Table.Td>
                      <Table.Td>
                        {isAdmin && !self ? (
                          <Switch aria-label={`${u.name} may log in`} checked={u.active} onChange={(e) => setActive(u, e.currentTarget.checked)} />
                        ) : u.active ? (
                          "yes"
                        ) : (
                          "no"
                        )}
                      </Table.Td>
                      <Table.Td>
                        <RelativeTime value={u.last_login_at} />
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
    </Paper>
  );
}

function InviteForm() {
  const queryClient = useQueryClient();
  const form = useForm<{ email: string; role: Role }>({
    initialValues: { email: "", role: "marketer" },
    validate: { email: (v) => (/^\S+@\S+$/.test(v.trim()) ? null : "Enter an e-mail address.") },
  });
  const invite = useMutation({
    ...createInvitationMutation(),
    onSuccess: async () => {
      form.reset();
      await queryClient.invalidateQueries({ queryKey: listInvitationsQueryKey() });
    },
    onError: (error) => form.setErrors(fieldErrors(error)),
  });
  return (
    <form noValidate onSubmit={form.onSubmit((v) => invite.mutate({ body: { email: v.email.trim(), role: v.role } }))}>
      <Group align="flex-start" gap="sm" wrap="wrap">
        <TextInput label="E-mail" type="email" w={280} {...form.getInputProps("email")} />
        <Select label="Role" data={ROLES} allowDeselect={false} w={270} {...form.getInputProps("role")} />
        <Button type="submit" mt={25} loading={invite.isPending}>
          Invite
        </Button>
      </Group>
      {invite.data ? (
        <Alert color="green" mt="sm" title={`Invitation for ${invite.data.email}`}>
          <Text size="sm" mb={4}>
            {invite.data.mailed ? "It was e-mailed; you can also send this link yourself." : "Send this link to them (valid 72 hours, once):"}
          </Text>
          <CopyValue value={invite.data.link ?? ""} label="invitation link" />
        </Alert>
      ) : null}
      {invite.isError && !Object.keys(fieldErrors(invite.error)).length ? (
        <Alert color="red" mt="sm" role="alert">
          {errorMessage(invite.error)}
        </Alert>
      ) : null}
    </form>
  );
}

function invitationState(inv: Invitation): { label: string; color: string } {
  if (inv.accepted_at) return { label: "accepted", color: "green" };
  if (new Date(inv.expires_at).getTime() < Date.now()) return { label: "expired", color: "gray" };
  return { label: "waiting", color: "blue" };
}

function Invitations() {
  const invitations = useQuery(listInvitationsOptions());
  const queryClient = useQueryClient();
  const withdraw = useMutation({
    ...deleteInvitationMutation(),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: listInvitationsQueryKey() }),
    onError: (error) => notifications.show({ color: "red", title: "Not withdrawn", message: errorMessage(error) }),
  });
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="invitations-title">
      <Title order={2} size="h4" id="invitations-title" mb="sm">
        Invitations
      </Title>
      <AdminAccess>
        <InviteForm />
      </AdminAccess>
      <QueryState query={invitations} isEmpty={(d) => d.length === 0} empty={<Text size="sm" c="dimmed" mt="sm">No invitations.</Text>}>
        {(rows) => (
          <Table.ScrollContainer minWidth={760} mt="md">
            <Table aria-label="Invitations" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>E-mail</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>Expires</Table.Th>
                  <Table.Th>Link</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Withdraw</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((inv) => {
                  const state = invitationState(inv);
                  return (
                    <Table.Tr key={inv.id}>
                      <Table.Td>{inv.email}</Table.Td>
                      <Table.Td>{ROLE_LABELS[inv.role]}</Table.Td>
                      <Table.Td>
                        <Badge color={state.color} variant="light">
                          {state.label}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        <RelativeTime value={inv.expires_at} />
                      </Table.Td>
                      <Table.Td>{state.label === "waiting" ? <CopyValue value={inv.link ?? ""} label={`invitation link for ${inv.email}`} /> : "–"}</Table.Td>
                      <Table.Td>
                        <AdminAccess>
                          {inv.accepted_at ? null : (
                            <Button
                              size="xs"
                              variant="subtle"
                              color="red"
                              aria-label={`Withdraw the invitation for ${inv.email}`}
                              onClick={() => withdraw.mutate({ path: { invitation_id: inv.id } })}
                            >
                              Withdraw
                            </Button>
                          )}
                        </AdminAccess>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
    </Paper>
  );
}
