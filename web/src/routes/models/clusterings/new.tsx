// A new clustering: which features, which method, how many clusters (or let the silhouette choose), whom.
import { Alert, Button, Group, NumberInput, Paper, SegmentedControl, Select, Stack, TagsInput, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import { useMemo } from "react";

import { errorMessage, fieldErrors } from "../../../api/errors";
import { createClusteringMutation, listClusteringsQueryKey } from "../../../client/segmentation/@tanstack/react-query.gen";
import { PageHeader } from "../../../components/PageHeader";
import { KNOWN_COMPUTED } from "../../../features/segments/rules";
import { useKeySuggestions, useSegments } from "../../../features/segments/suggestions";

export const Route = createFileRoute("/_console/models/clusterings/new")({
  component: NewClusteringPage,
});

const DERIVED = ["days_since_last_order", "days_since_last_visit", "tenure_days"];
const SCORE_FEATURES = ["scores.clv", "scores.p_alive", "scores.expected_purchases", "scores.clv_percentile"];
const NUMERIC_COMPUTED = KNOWN_COMPUTED.filter((k) => !k.endsWith("_at") && !k.startsWith("last_utm"));

interface Values {
  name: string;
  features: string[];
  method: "kmeans" | "gmm";
  kMode: "auto" | "fixed";
  k: number | "";
  minShare: number | "";
  segmentId: string | null;
  rerunEveryHours: number | "";
}

function NewClusteringPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const traitKeys = useKeySuggestions("traits", "");
  const computedKeys = useKeySuggestions("computed", "");
  const segments = useSegments();
  const featureOptions = useMemo(
    () => [
      ...new Set([
        ...DERIVED,
        ...computedKeys.map((k) => k.value),
        ...NUMERIC_COMPUTED,
        ...SCORE_FEATURES,
        ...traitKeys.map((k) => `traits.${k.value}`),
      ]),
    ],
    [computedKeys, traitKeys],
  );
  const form = useForm<Values>({
    initialValues: {
      name: "",
      features: ["orders", "revenue", "average_order_value", "days_since_last_order", "tenure_days"],
      method: "kmeans",
      kMode: "auto",
      k: 5,
      minShare: 2,
      segmentId: null,
      rerunEveryHours: "",
    },
    validate: {
      name: (v) => (v.trim() ? null : "Give the clustering a name."),
      features: (v) => (v.length ? null : "Choose at least one feature."),
      k: (v, values) => (values.kMode === "fixed" && (v === "" || v < 2 || v > 50) ? "From 2 to 50." : null),
    },
  });
  const create = useMutation({
    ...createClusteringMutation(),
    onSuccess: async (clustering) => {
      await queryClient.invalidateQueries({ queryKey: listClusteringsQueryKey() });
      await navigate({ to: "/models/clusterings/$clusteringId", params: { clusteringId: clustering.id } });
    },
    onError: (error) => {
      const f = fieldErrors(error);
      form.setErrors({ name: f.name, features: f.features ?? f[""], k: f.k, minShare: f.min_share, rerunEveryHours: f.rerun_every_hours, segmentId: f.segment_id });
    },
  });
  const submit = form.onSubmit((v) =>
    create.mutate({
      body: {
        name: v.name.trim(),
        features: v.features,
        method: v.method,
        k: v.kMode === "auto" || v.k === "" ? "auto" : v.k,
        min_share: v.minShare === "" ? 0.02 : v.minShare / 100,
        segment_id: v.segmentId,
        rerun_every_hours: v.rerunEveryHours === "" ? null : v.rerunEveryHours,
      },
    }),
  );
  return (
    <>
      <PageHeader title="New clustering" description="Customers are grouped by the features you choose; skewed features are log-transformed and all are standardised." />
      <Paper withBorder p="md" maw={760}>
        <form onSubmit={submit} noValidate>
          <Stack gap="md">
            <TextInput label="Name" required maxLength={150} {...form.getInputProps("name")} />
            <TagsInput
              label="Features"
              description="Computed traits (orders), traits.<key>, scores.<key>, or days since last order / visit and tenure. Press Enter after each."
              data={featureOptions}
              clearable
              {...form.getInputProps("features")}
            />
            <Group gap="lg" align="flex-start" wrap="wrap">
              <Stack gap={4}>
                <Text size="sm" fw={500} id="method-label">
                  Method
                </Text>
                <SegmentedControl
                  aria-labelledby="method-label"
                  data={[
                    { value: "kmeans", label: "k-means" },
                    { value: "gmm", label: "Gaussian mixture" },
                  ]}
                  {...form.getInputProps("method")}
                />
              </Stack>
              <Stack gap={4}>
                <Text size="sm" fw={500} id="k-label">
                  Number of clusters
                </Text>
                <Group gap="xs">
                  <SegmentedControl
                    aria-labelledby="k-label"
                    data={[
                      { value: "auto", label: "Best by silhouette (2–10)" },
                      { value: "fixed", label: "Fixed" },
                    ]}
                    {...form.getInputProps("kMode")}
                  />
                  {form.values.kMode === "fixed" ? <NumberInput aria-label="k" min={2} max={50} allowDecimal={false} w={90} {...form.getInputProps("k")} /> : null}
                </Group>
              </Stack>
            </Group>
            <Group gap="md" align="flex-start" wrap="wrap">
              <NumberInput
                label="Smallest cluster allowed"
                description="Share of customers"
                suffix=" %"
                min={0}
                max={50}
                decimalScale={1}
                w={200}
                {...form.getInputProps("minShare")}
              />
              <Select
                label="Cluster only the members of"
                placeholder="Everyone"
                data={segments.map((s) => ({ value: s.id, label: s.name }))}
                clearable
                searchable
                w={260}
                {...form.getInputProps("segmentId")}
              />
              <NumberInput
                label="Re-run every (hours)"
                description="Empty: only when asked"
                min={1}
                max={24 * 366}
                w={200}
                {...form.getInputProps("rerunEveryHours")}
              />
            </Group>
            {create.isError ? (
              <Alert color="red" role="alert" title="Not created">
                {errorMessage(create.error)}
              </Alert>
            ) : null}
            <Group>
              <Button type="submit" loading={create.isPending}>
                Create and fit
              </Button>
              <Button variant="default" onClick={() => void navigate({ to: "/models" })}>
                Cancel
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </>
  );
}
