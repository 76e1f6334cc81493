// GDPR erasure (admins): everything about the person goes, in every service, and they are not re-created. The
// admin types the customer's e-mail (or id) to confirm.
import { Alert, Button, Checkbox, Modal, Stack, Text, TextInput } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { useState } from "react";

import { errorMessage } from "../../api/errors";
import { eraseProfileMutation } from "../../client/profiles/@tanstack/react-query.gen";
import type { ProfileRead } from "../../client/profiles/types.gen";
import { profileLabel } from "./profiles";

export function ErasePanel({ profile }: { profile: ProfileRead }) {
  const [opened, { open, close }] = useDisclosure(false);
  const [typed, setTyped] = useState("");
  const [suppress, setSuppress] = useState(true);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const expected = profileLabel(profile);
  const erase = useMutation({
    ...eraseProfileMutation(),
    onSuccess: async () => {
      close();
      notifications.show({ color: "green", message: `${expected} was erased.` });
      queryClient.removeQueries({ predicate: (q) => JSON.stringify(q.queryKey).includes(profile.id) });
      await navigate({ to: "/customers" });
    },
  });
  const matches = typed.trim() === expected || typed.trim() === profile.id;
  return (
    <>
      <Alert color="red" variant="light" title="Erase this customer">
        <Stack gap="xs" align="flex-start">
          <Text size="sm">
            Deletes the profile, its timeline and every copy other services hold (GDPR erasure). It cannot be undone.
          </Text>
          <Button color="red" onClick={open}>
            Erase customer…
          </Button>
        </Stack>
      </Alert>
      <Modal opened={opened} onClose={close} title="Erase this customer for good?">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (matches) erase.mutate({ path: { profile_id: profile.id }, query: { suppress } });
          }}
        >
          <Stack gap="sm">
            <Text size="sm">
              Type <strong>{expected}</strong> to confirm.
            </Text>
            <TextInput label="Customer's e-mail or id" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} autoComplete="off" data-autofocus />
            <Checkbox
              label="Keep them from being re-created by later events (recommended)"
              checked={suppress}
              onChange={(e) => setSuppress(e.currentTarget.checked)}
            />
            {erase.isError ? (
              <Alert color="red" role="alert">
                {errorMessage(erase.error)}
              </Alert>
            ) : null}
            <Button type="submit" color="red" disabled={!matches} loading={erase.isPending}>
              Erase customer
            </Button>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
