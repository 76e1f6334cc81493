import { Alert, Button, Paper, PasswordInput, Stack, Text } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";

import { errorMessage, fieldErrors } from "../../api/errors";
import { changePasswordMutation } from "../../client/console/@tanstack/react-query.gen";
import { ROLE_LABELS, usePermissions } from "../../auth/session";
import { PageHeader } from "../../components/PageHeader";
import { MIN_PASSWORD_LENGTH, confirmProblem, passwordProblem } from "../auth/password";

export const Route = createFileRoute("/_console/account/")({
  component: AccountPage,
});

function AccountPage() {
  const { me } = usePermissions();
  const form = useForm({
    initialValues: { current_password: "", new_password: "", confirm: "" },
    validate: {
      current_password: (v) => (v ? null : "Enter your current password."),
      new_password: passwordProblem,
      confirm: (v, values) => confirmProblem(v, values.new_password),
    },
  });
  const change = useMutation({
    ...changePasswordMutation(),
    onSuccess: () => {
      form.reset();
      notifications.show({ color: "green", message: "Your password has changed." });
    },
    onError: (error) => form.setErrors(fieldErrors(error)),
  });
  return (
    <>
      <PageHeader title="Your account" description={me ? `${me.name} · ${me.email} · ${ROLE_LABELS[me.role]}` : undefined} />
      <Paper withBorder p="lg" maw={480}>
        <Text fw={600} mb="sm" component="h2">
          Change password
        </Text>
        <form
          noValidate
          onSubmit={form.onSubmit((v) =>
            change.mutate({ body: { current_password: v.current_password, new_password: v.new_password } }),
          )}
        >
          <Stack gap="sm">
            <PasswordInput label="Current password" autoComplete="current-password" required {...form.getInputProps("current_password")} />
            <PasswordInput
              label="New password"
              description={`At least ${MIN_PASSWORD_LENGTH} characters`}
              autoComplete="new-password"
              required
              {...form.getInputProps("new_password")}
            />
            <PasswordInput label="Repeat the new password" autoComplete="new-password" required {...form.getInputProps("confirm")} />
            {change.isError ? (
              <Alert color="red" role="alert">
                {errorMessage(change.error)}
              </Alert>
            ) : null}
            <Button type="submit" loading={change.isPending} style={{ alignSelf: "flex-start" }}>
              Change password
            </Button>
          </Stack>
        </form>
      </Paper>
    </>
  );
}
