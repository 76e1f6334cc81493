// Find one customer by e-mail, user id, anonymous id or profile id (profiles' lookup).
import { Alert, Button, Group, SegmentedControl, Stack, TextInput } from "@mantine/core";
import { useState } from "react";

import { errorMessage, isStatus } from "../../api/errors";
import { getProfile, lookupProfile } from "../../client/profiles/sdk.gen";
import type { ProfileRead } from "../../client/profiles/types.gen";

export type IdKind = "email" | "user_id" | "anonymous_id" | "profile_id";

export const ID_KINDS: { value: IdKind; label: string }[] = [
  { value: "email", label: "E-mail" },
  { value: "user_id", label: "User id" },
  { value: "anonymous_id", label: "Anonymous id" },
  { value: "profile_id", label: "Profile id" },
];

export async function findProfile(kind: IdKind, value: string): Promise<ProfileRead> {
  if (kind === "profile_id") return (await getProfile({ path: { profile_id: value }, throwOnError: true })).data;
  return (await lookupProfile({ query: { [kind]: value }, throwOnError: true })).data;
}

export function FindProfile({ onFound, submitLabel = "Find" }: { onFound: (profile: ProfileRead) => void; submitLabel?: string }) {
  const [kind, setKind] = useState<IdKind>("email");
  const [value, setValue] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const label = ID_KINDS.find((k) => k.value === kind)?.label ?? "Id";
  const submit = async () => {
    if (!value.trim()) return;
    setBusy(true);
    setError(null);
    try {
      onFound(await findProfile(kind, value.trim()));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Stack gap="xs">
        <SegmentedControl
          aria-label="Search by"
          value={kind}
          onChange={(v) => setKind(v)}
          data={ID_KINDS}
          size="xs"
          style={{ alignSelf: "flex-start" }}
        />
        <Group align="flex-end" gap="xs" wrap="nowrap">
          <TextInput
            label={label}
            type={kind === "email" ? "email" : "text"}
            value={value}
            onChange={(e) => setValue(e.currentTarget.value)}
            style={{ flex: 1 }}
            maw={420}
          />
          <Button type="submit" loading={busy}>
            {submitLabel}
          </Button>
        </Group>
        {error ? (
          <Alert color={isStatus(error, 404) ? "yellow" : "red"} variant="light" role="alert">
            {isStatus(error, 404) ? `No customer with that ${label.toLowerCase()}.` : errorMessage(error)}
          </Alert>
        ) : null}
      </Stack>
    </form>
  );
}
