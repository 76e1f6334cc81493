import { Alert, Button, PasswordInput, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useRouter } from "@tanstack/react-router";

import { errorMessage } from "../../api/errors";
import { getStatusOptions, logInMutation } from "../../client/console/@tanstack/react-query.gen";
import { meQueryKey, safeRedirect } from "../../auth/session";
import { AuthFrame } from "./AuthFrame";

interface LoginSearch {
  redirect?: string;
}

export const Route = createFileRoute("/login")({
  validateSearch: (search: Record<string, unknown>): LoginSearch =>
    typeof search.redirect === "string" ? { redirect: search.redirect } : {},
  component: LoginPage,
});

function LoginPage() {
  const { redirect } = Route.useSearch();
  const router = useRouter();
  const queryClient = useQueryClient();
  const status = useQuery(getStatusOptions());
  const form = useForm({
    initialValues: { email: "", password: "" },
    validate: {
      email: (v) => (v.trim() ? null : "Enter your e-mail."),
      password: (v) => (v ? null : "Enter your password."),
    },
  });
  const login = useMutation({
    ...logInMutation(),
    onSuccess: (me) => {
      queryClient.setQueryData(meQueryKey, me);
      router.history.push(safeRedirect(redirect));
    },
  });
  return (
    <AuthFrame
      title="Log in"
      description={redirect ? "Your session has ended. Log in to go back to the page you were on." : undefined}
    >
      {status.data?.needs_setup ? (
        <Alert color="yellow" title="No administrator yet">
          Open the setup link that <code>tessera up</code> printed to create the first administrator.
        </Alert>
      ) : null}
      <form
        onSubmit={form.onSubmit((values) => login.mutate({ body: { email: values.email.trim(), password: values.password } }))}
        noValidate
      >
        <Stack gap="sm">
          <TextInput label="E-mail" type="email" autoComplete="username" required {...form.getInputProps("email")} />
          <PasswordInput label="Password" autoComplete="current-password" required {...form.getInputProps("password")} />
          {login.isError ? (
            <Alert color="red" role="alert">
              {errorMessage(login.error)}
            </Alert>
          ) : null}
          <Button type="submit" loading={login.isPending}>
            Log in
          </Button>
        </Stack>
      </form>
    </AuthFrame>
  );
}
