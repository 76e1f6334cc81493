// Consent per channel, with where it came from and when; marketers may change it, after confirming.
import { Badge, Button, Table, Text, VisuallyHidden } from "@mantine/core";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";

import { errorMessage } from "../../api/errors";
import { getProfileQueryKey, putConsentMutation } from "../../client/profiles/@tanstack/react-query.gen";
import type { ProfileRead } from "../../client/profiles/types.gen";
import { WriteAccess } from "../../components/Access";
import { RelativeTime } from "../../components/Freshness";

export const CHANNELS = [
  { key: "email", label: "E-mail" },
  { key: "ads", label: "Advertising" },
  { key: "analytics", label: "Analytics" },
] as const;

export function ConsentPanel({ profile }: { profile: ProfileRead }) {
  const queryClient = useQueryClient();
  const put = useMutation({
    ...putConsentMutation(),
    onSuccess: (updated) => {
      queryClient.setQueryData(getProfileQueryKey({ path: { profile_id: profile.id } }), updated);
      notifications.show({ color: "green", message: "Consent recorded." });
    },
    onError: (error) => notifications.show({ color: "red", title: "Consent not changed", message: errorMessage(error) }),
  });
  const confirm = (channel: (typeof CHANNELS)[number], grant: boolean) =>
    modals.openConfirmModal({
      title: `${grant ? "Record consent" : "Withdraw consent"} for ${channel.label.toLowerCase()}?`,
      children: (
        <Text size="sm">
          {grant
            ? "Only record consent the customer gave you. It is stored as given through the console, now."
            : "The customer will no longer be reached on this channel. An opt-out is never overridden by older events."}
        </Text>
      ),
      labels: { confirm: grant ? "Record consent" : "Withdraw consent", cancel: "Cancel" },
      confirmProps: { color: grant ? "blue" : "red" },
      onConfirm: () => put.mutate({ path: { profile_id: profile.id }, body: { [channel.key]: grant } }),
    });
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table aria-label="Consent per channel" verticalSpacing="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Channel</Table.Th>
            <Table.Th>Consent</Table.Th>
            <Table.Th>Source</Table.Th>
            <Table.Th>Since</Table.Th>
            <Table.Th>
              <VisuallyHidden>Change</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {CHANNELS.map((channel) => {
            const consent = profile.consent[channel.key];
            return (
              <Table.Tr key={channel.key}>
                <Table.Td>{channel.label}</Table.Td>
                <Table.Td>
                  {consent ? (
                    <Badge color={consent.granted ? "green" : "red"} variant="light">
                      {consent.granted ? "Granted" : "Refused"}
                    </Badge>
                  ) : (
                    <Badge color="gray" variant="light">
                      Unknown
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td>{consent?.source ?? "–"}</Table.Td>
                <Table.Td>{consent ? <RelativeTime value={consent.at} /> : "–"}</Table.Td>
                <Table.Td>
                  <WriteAccess>
                    <Button
                      size="xs"
                      variant="light"
                      color={consent?.granted ? "red" : "blue"}
                      onClick={() => confirm(channel, !consent?.granted)}
                      loading={put.isPending && put.variables.body[channel.key] !== undefined}
                    >
                      {consent?.granted ? `Withdraw ${channel.label.toLowerCase()} consent` : `Record ${channel.label.toLowerCase()} consent`}
                    </Button>
                  </WriteAccess>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
