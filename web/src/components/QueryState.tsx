// Every screen shows the same three states around its data: loading, error (with a retry) and empty.
import { Alert, Button, Center, EmptyState, Group, Loader, Stack, Text } from "@mantine/core";
import { IconAlertTriangle, IconInbox } from "@tabler/icons-react";
import type { ReactNode } from "react";

import { errorMessage, isStatus } from "../api/errors";

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="xs">
        <Loader size="sm" aria-hidden />
        <Text c="dimmed" size="sm">
          {label}…
        </Text>
      </Group>
    </Center>
  );
}

export function ErrorState({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const forbidden = isStatus(error, 403);
  return (
    <Alert
      color={forbidden ? "yellow" : "red"}
      variant="light"
      icon={<IconAlertTriangle aria-hidden />}
      title={title ?? (forbidden ? "Not available to your role" : "Could not load this")}
      role="alert"
    >
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{errorMessage(error)}</Text>
        {onRetry && !forbidden ? (
          <Button size="xs" variant="light" onClick={onRetry}>
            Try again
          </Button>
        ) : null}
      </Stack>
    </Alert>
  );
}

export function Empty({ title, description, action }: { title: string; description?: ReactNode; action?: ReactNode }) {
  return (
    <EmptyState
      py="xl"
      icon={<IconInbox aria-hidden />}
      title={title}
      description={description}
      variant="light"
    >
      {action}
    </EmptyState>
  );
}

/** What QueryState reads of a useQuery result (whatever its error type). */
export interface QueryLike<T> {
  data: T | undefined;
  error: unknown;
  isPending: boolean;
  isError: boolean;
  refetch: () => unknown;
}

interface QueryStateProps<T> {
  query: QueryLike<T>;
  /** Whether the data counts as empty (then `empty` is shown instead of the children). */
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  loadingLabel?: string;
  errorTitle?: string;
  children: (data: T) => ReactNode;
}

/** The loading, error and empty states of one query, then `children(data)`. */
export function QueryState<T>({ query, isEmpty, empty, loadingLabel, errorTitle, children }: QueryStateProps<T>) {
  if (query.isPending) return <Loading label={loadingLabel} />;
  if (query.isError) return <ErrorState error={query.error} title={errorTitle} onRetry={() => void query.refetch()} />;
  const data = query.data as T;
  if (isEmpty?.(data)) return <>{empty ?? <Empty title="Nothing here yet" />}</>;
  return <>{children(data)}</>;
}
