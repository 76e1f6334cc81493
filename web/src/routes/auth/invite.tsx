import { Alert, Button, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";

import { errorMessage, fieldErrors } from "../../api/errors";
import { acceptInvitationMutation, getInvitationInfoOptions } from "../../client/console/@tanstack/react-query.gen";
import { ROLE_LABELS, meQueryKey } from "../../auth/session";
import { AnchorLink } from "../../components/links";
import { QueryState } from "../../components/QueryState";
import { AuthFrame } from "./AuthFrame";
import { MIN_PASSWORD_LENGTH, confirmProblem, passwordProblem } from "./password";

export const Route = createFileRoute("/invite/$token")({
  component: InvitePage,
});

function InvitePage() {
  const { token } = Route.useParams();
  const info = useQuery(getInvitationInfoOptions({ path: { token } }));
  return (
    <AuthFrame title="Join Tessera">
      <QueryState query={info} loadingLabel="Checking the invitation" errorTitle="This invitation cannot be used">
        {(invitation) =>
          invitation.valid ? (
            <AcceptForm token={token} email={invitation.email} role={ROLE_LABELS[invitation.role]} />
          ) : (
            <Alert color="yellow" title="This invitation cannot be used">
              {invitation.reason ?? "It has expired or was used already."} Ask an administrator for a new one, or{" "}
              <AnchorLink to="/login">log in</AnchorLink>.
            </Alert>
          )
        }
      </QueryState>
    </AuthFrame>
  );
}

function AcceptForm({ token, email, role }: { token: string; email: string; role: string }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { name: "", password: "", confirm: "" },
    validate: {
      name: (v) => (v.trim() ? null : "Enter your name."),
      password: passwordProblem,
      confirm: (v, values) => confirmProblem(v, values.password),
    },
  });
  const accept = useMutation({
    ...acceptInvitationMutation(),
    onSuccess: async (me) => {
      queryClient.setQueryData(meQueryKey, me);
      await navigate({ to: "/" });
    },
    onError: (error) => form.setErrors(fieldErrors(error)),
  });
  return (
    <form
      noValidate
      onSubmit={form.onSubmit((v) => accept.mutate({ path: { token }, body: { name: v.name.trim(), password: v.password } }))}
    >
      <Stack gap="sm">
        <Text size="sm">
          You are invited as <strong>{role}</strong> with the e-mail <strong>{email}</strong>.
        </Text>
        <TextInput label="Name" autoComplete="name" required {...form.getInputProps("name")} />
        <PasswordInput
          label="Password"
          description={`At least ${MIN_PASSWORD_LENGTH} characters`}
          autoComplete="new-password"
          required
          {...form.getInputProps("password")}
        />
        <PasswordInput label="Repeat the password" autoComplete="new-password" required {...form.getInputProps("confirm")} />
        {accept.isError ? (
          <Alert color="red" role="alert">
            {errorMessage(accept.error)}
          </Alert>
        ) : null}
        <Button type="submit" loading={accept.isPending}>
          Join
        </Button>
      </Stack>
    </form>
  );
}
