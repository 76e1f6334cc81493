import { Alert, Button, PasswordInput, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";

import { errorMessage, fieldErrors } from "../../api/errors";
import { getStatusOptions, setUpMutation } from "../../client/console/@tanstack/react-query.gen";
import { meQueryKey } from "../../auth/session";
import { AnchorLink } from "../../components/links";
import { AuthFrame } from "./AuthFrame";
import { MIN_PASSWORD_LENGTH, confirmProblem, passwordProblem } from "./password";

export const Route = createFileRoute("/setup")({
  validateSearch: (search: Record<string, unknown>): { token?: string } =>
    typeof search.token === "string" ? { token: search.token } : {},
  component: SetupPage,
});

function SetupPage() {
  const { token } = Route.useSearch();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const status = useQuery(getStatusOptions());
  const form = useForm({
    initialValues: { email: "", name: "", password: "", confirm: "" },
    validate: {
      email: (v) => (/^\S+@\S+$/.test(v.trim()) ? null : "Enter an e-mail address."),
      name: (v) => (v.trim() ? null : "Enter your name."),
      password: passwordProblem,
      confirm: (v, values) => confirmProblem(v, values.password),
    },
  });
  const setup = useMutation({
    ...setUpMutation(),
    onSuccess: async (me) => {
      queryClient.setQueryData(meQueryKey, me);
      await navigate({ to: "/" });
    },
    onError: (error) => form.setErrors(fieldErrors(error)),
  });
  if (!token) {
    return (
      <AuthFrame title="Set up Tessera">
        <Alert color="yellow">
          This page needs the one-time setup link that <code>tessera up</code> printed (it ends in <code>?token=…</code>).
        </Alert>
      </AuthFrame>
    );
  }
  if (status.data && !status.data.needs_setup) {
    return (
      <AuthFrame title="Set up Tessera">
        <Alert color="blue">
          The first administrator exists already. <AnchorLink to="/login">Log in</AnchorLink>
        </Alert>
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title="Create the first administrator" description="This account can invite everyone else.">
      <form
        noValidate
        onSubmit={form.onSubmit((v) =>
          setup.mutate({ body: { token, email: v.email.trim(), name: v.name.trim(), password: v.password } }),
        )}
      >
        <Stack gap="sm">
          <TextInput label="E-mail" type="email" autoComplete="username" required {...form.getInputProps("email")} />
          <TextInput label="Name" autoComplete="name" required {...form.getInputProps("name")} />
          <PasswordInput
            label="Password"
            description={`At least ${MIN_PASSWORD_LENGTH} characters`}
            autoComplete="new-password"
            required
            {...form.getInputProps("password")}
          />
          <PasswordInput label="Repeat the password" autoComplete="new-password" required {...form.getInputProps("confirm")} />
          {setup.isError ? (
            <Alert color="red" role="alert">
              {errorMessage(setup.error)}
            </Alert>
          ) : null}
          <Button type="submit" loading={setup.isPending}>
            Create administrator
          </Button>
        </Stack>
      </form>
    </AuthFrame>
  );
}
