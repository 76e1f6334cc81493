// Customer lifetime value: fit BG/NBD + Gamma-Gamma as a job (202, then its progress), the fitted parameters, how CLV
// and P(alive) are spread, and the customers worth most.
import { Alert, Badge, Button, Group, NumberInput, Paper, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { DateInput } from "@mantine/dates";
import "@mantine/dates/styles.css";
import { useForm } from "@mantine/form";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import { useEffect } from "react";

import { errorMessage, fieldErrors, isStatus } from "../../api/errors";
import {
  fitClvMutation,
  getClvFitOptions,
  getClvModelOptions,
  getClvModelQueryKey,
  listClvFitsOptions,
  listClvFitsQueryKey,
} from "../../client/segmentation/@tanstack/react-query.gen";
import type { ClvFitRead, ClvModelRead } from "../../client/segmentation/types.gen";
import { WriteAccess } from "../../components/Access";
import { BarChart } from "../../components/charts";
import { Freshness, RelativeTime } from "../../components/Freshness";
import { AnchorLink } from "../../components/links";
import { PageHeader } from "../../components/PageHeader";
import { Empty, ErrorState, Loading, QueryState } from "../../components/QueryState";
import { StatCard } from "../../components/StatCard";
import { profileLabel, useProfilesById } from "../../features/customers/profiles";
import { ClvValidation } from "../../features/models/ClvValidation";
import { bands, useBandCounts, useTopCustomers } from "../../features/models/clvDistribution";
import { JobProgress, isRunning } from "../../features/models/JobProgress";
import { formatCount, formatCurrency, formatDate, formatDuration, formatNumber, formatPercent } from "../../lib/format";

export const Route = createFileRoute("/_console/models/clv")({
  validateSearch: (search: Record<string, unknown>): { fit?: string } => (typeof search.fit === "string" ? { fit: search.fit } : {}),
  component: ClvPage,
});

function ClvPage() {
  const model = useQuery({ ...getClvModelOptions(), retry: false });
  const { fit } = Route.useSearch();
  const noModel = isStatus(model.error, 404);
  return (
    <>
      <PageHeader
        title="Customer lifetime value"
        description="How likely each customer is still active, how often they will buy and what they are worth over the horizon."
        meta={model.data ? <Freshness asOf={model.data.created_at} label="model fitted" /> : null}
      />
      <Stack gap="lg">
        <WriteAccess>
          <FitForm />
        </WriteAccess>
        {fit ? <FitJob fitId={fit} /> : null}
        {noModel ? (
          <Empty title="No CLV model yet" description="Fit one on the orders so far: it needs at least 10 customers, some of them repeat customers." />
        ) : (
          <QueryState query={model} loadingLabel="Loading the model">
            {(m) => <ModelView model={m} />}
          </QueryState>
        )}
        <ClvValidation />
        <Fits />
      </Stack>
    </>
  );
}

interface FitValues {
  calibrationEnd: string | null;
  timeUnit: "days" | "weeks";
  horizon: number | "";
  discountRate: number | "";
  rerunEveryHours: number | "";
}

function FitForm() {
  const navigate = useNavigate({ from: Route.fullPath });
  const queryClient = useQueryClient();
  const form = useForm<FitValues>({
    initialValues: { calibrationEnd: null, timeUnit: "weeks", horizon: 52, discountRate: 0, rerunEveryHours: "" },
    validate: { horizon: (v) => (v === "" || v < 1 || v > 520 ? "From 1 to 520." : null) },
  });
  const fit = useMutation({
    ...fitClvMutation(),
    onSuccess: async (job) => {
      await queryClient.invalidateQueries({ queryKey: listClvFitsQueryKey() });
      await navigate({ search: { fit: job.id } });
    },
    onError: (error) => {
      const f = fieldErrors(error);
      form.setErrors({ calibrationEnd: f.calibration_end, horizon: f.horizon, discountRate: f.discount_rate, rerunEveryHours: f.rerun_every_hours });
    },
  });
  const submit = form.onSubmit((v) =>
    fit.mutate({
      body: {
        calibration_end: v.calibrationEnd,
        time_unit: v.timeUnit,
        horizon: v.horizon === "" ? 52 : v.horizon,
        discount_rate: v.discountRate === "" ? 0 : v.discountRate / 100,
        rerun_every_hours: v.rerunEveryHours === "" ? null : v.rerunEveryHours,
      },
    }),
  );
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="fit-title">
      <Title order={2} size="h4" id="fit-title" mb="sm">
        Fit a model
      </Title>
      <form onSubmit={submit} noValidate>
        <Group align="flex-start" gap="md" wrap="wrap">
          <DateInput label="Orders up to" description="Empty: today" clearable valueFormat="YYYY-MM-DD" w={170} {...form.getInputProps("calibrationEnd")} />
          <Select
            label="Time unit"
            data={[
              { value: "weeks", label: "Weeks" },
              { value: "days", label: "Days" },
            ]}
            allowDeselect={false}
            w={120}
            {...form.getInputProps("timeUnit")}
          />
          <NumberInput label="Horizon" description={`in ${form.values.timeUnit}`} min={1} max={520} allowDecimal={false} w={120} {...form.getInputProps("horizon")} />
          <NumberInput label="Discount rate" description={`% per ${form.values.timeUnit === "weeks" ? "week" : "day"}`} min={0} max={99} decimalScale={3} suffix=" %" w={150} {...form.getInputProps("discountRate")} />
          <NumberInput label="Re-fit every (hours)" description="Empty: only when asked" min={1} w={170} {...form.getInputProps("rerunEveryHours")} />
        </Group>
        {fit.isError && !isStatus(fit.error, 422) ? (
          <Alert color={isStatus(fit.error, 409) ? "yellow" : "red"} mt="sm" role="alert">
            {errorMessage(fit.error)}
          </Alert>
        ) : null}
        <Button type="submit" mt="md" loading={fit.isPending}>
          Fit
        </Button>
      </form>
    </Paper>
  );
}

function FitJob({ fitId }: { fitId: string }) {
  const queryClient = useQueryClient();
  const job = useQuery({
    ...getClvFitOptions({ path: { fit_id: fitId } }),
    refetchInterval: (q) => (q.state.data && !isRunning(q.state.data.status) ? false : 1_000),
  });
  const status = job.data?.status;
  useEffect(() => {
    if (status === "ready" || status === "error") {
      void queryClient.invalidateQueries({ queryKey: getClvModelQueryKey() });
      void queryClient.invalidateQueries({ queryKey: listClvFitsQueryKey() });
    }
  }, [status, queryClient]);
  if (job.isPending) return <Loading label="Loading the fit" />;
  if (job.isError) return <ErrorState error={job.error} />;
  const f = job.data;
  if (isRunning(f.status)) return <JobProgress label="Fitting CLV" progress={f.progress} stage={f.stage} status={f.status} />;
  if (f.status === "error" && f.error) {
    return (
      <Alert color={f.error.status === 409 ? "yellow" : "red"} title={f.error.status === 409 ? "The fit found no maximum" : "The data cannot support a fit"} role="alert">
        {f.error.message}
        {f.error.fields.map((field, i) => (
          <Text key={i} size="sm">
            {Object.values(field).join(": ")}
          </Text>
        ))}
        <Text size="sm" mt="xs">
          Nothing changed: the previous model and every score stay as they were.
        </Text>
      </Alert>
    );
  }
  return (
    <Alert color="green" title="Fitted">
      {formatCount(f.model?.customers)} customers scored in {formatDuration(seconds(f.started_at, f.finished_at))}; segments that use scores were
      recomputed.
    </Alert>
  );
}

function seconds(from: string | null, to: string | null): number | null {
  return from && to ? (new Date(to).getTime() - new Date(from).getTime()) / 1000 : null;
}

function Param({ name, value }: { name: string; value: number | null | undefined }) {
  return (
    <Table.Tr>
      <Table.Th fw={500}>{name}</Table.Th>
      <Table.Td ta="right" className="tabular">
        {formatNumber(value, 4)}
      </Table.Td>
    </Table.Tr>
  );
}

function ModelView({ model }: { model: ClvModelRead }) {
  const { bgnbd, gamma_gamma: gg } = model;
  return (
    <>
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        <StatCard label="Customers scored" value={formatCount(model.customers)} hint={`${formatCount(model.repeat_customers)} repeat customers`} />
        <StatCard label="Orders up to" value={formatDate(model.calibration_end)} />
        <StatCard label="Horizon" value={`${formatCount(model.horizon)} ${model.time_unit}`} hint={`discount ${formatPercent(model.discount_rate, 2)} per ${model.time_unit === "weeks" ? "week" : "day"}`} />
        <StatCard label="Fitted" value={<RelativeTime value={model.created_at} />} hint={model.rerun_every_hours ? `re-fits every ${formatNumber(model.rerun_every_hours, 1)} h` : undefined} />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Paper withBorder p="md" component="section" aria-labelledby="bgnbd-title">
          <Title order={2} size="h5" id="bgnbd-title">
            BG/NBD (how often, and whether still active)
          </Title>
          <Table fz="sm" aria-label="BG/NBD parameters" mt="xs">
            <Table.Tbody>
              <Param name="r" value={bgnbd.r} />
              <Param name="α" value={bgnbd.alpha} />
              <Param name="a" value={bgnbd.a} />
              <Param name="b" value={bgnbd.b} />
              <Param name="Log-likelihood" value={bgnbd.log_likelihood} />
            </Table.Tbody>
          </Table>
          <Boundary limits={bgnbd.boundary} />
        </Paper>
        <Paper withBorder p="md" component="section" aria-labelledby="gg-title">
          <Title order={2} size="h5" id="gg-title">
            Gamma-Gamma (how much per order)
          </Title>
          <Table fz="sm" aria-label="Gamma-Gamma parameters" mt="xs">
            <Table.Tbody>
              <Param name="p" value={gg.p} />
              <Param name="q" value={gg.q} />
              <Param name="γ" value={gg.gamma} />
              <Param name="Log-likelihood" value={gg.log_likelihood} />
            </Table.Tbody>
          </Table>
          <Text size="xs" c="dimmed" mt="xs">
            Fitted on {formatCount(gg.customers)} repeat customers
            {gg.excluded ? `; ${formatCount(gg.excluded)} left out (${gg.excluded_reason ?? "repeat orders worth 0"})` : ""}.
          </Text>
          <Boundary limits={gg.boundary} />
        </Paper>
      </SimpleGrid>
      <Distribution />
      <TopCustomers />
    </>
  );
}

function Boundary({ limits }: { limits: string[] | undefined }) {
  if (!limits?.length) return null;
  return (
    <Text size="xs" c="orange.8" mt="xs">
      At the model&apos;s boundary: {limits.join(", ")} (a limit of the model, held at a large value).
    </Text>
  );
}

const CLV_EDGES = [0, 10, 50, 100, 250, 500, 1000, 2500, 5000];
const ALIVE_EDGES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const CLV_BANDS = bands("clv", CLV_EDGES, (low, high) =>
  high === undefined ? `${formatCurrency(low, { whole: true })}+` : `${formatCurrency(low, { whole: true })}–${formatCurrency(high, { whole: true })}`,
);
const ALIVE_BANDS = bands("p_alive", ALIVE_EDGES, (low, high) => `${formatPercent(low, 0)}–${formatPercent(high ?? 1.0000001, 0)}`);

function Distribution() {
  const clv = useBandCounts("clv", CLV_BANDS, true);
  const alive = useBandCounts("p_alive", ALIVE_BANDS, true);
  return (
    <SimpleGrid cols={{ base: 1, lg: 2 }}>
      <DistributionChart title="Customers by predicted lifetime value" result={clv} />
      <DistributionChart title="Customers by probability of still being active" result={alive} />
    </SimpleGrid>
  );
}

function DistributionChart({ title, result }: { title: string; result: ReturnType<typeof useBandCounts> }) {
  return (
    <Paper withBorder p="md" component="section" aria-label={title}>
      <Title order={2} size="h5" mb="sm">
        {title}
      </Title>
      {result.error ? (
        <ErrorState error={result.error} />
      ) : result.isPending ? (
        <Loading label="Counting" />
      ) : (
        <>
          <BarChart h={220} data={result.rows} dataKey="band" series={[{ name: "customers", label: "Customers", color: "blue.6" }]} valueFormatter={(v) => formatCount(v)} aria-hidden barChartProps={{ accessibilityLayer: false }} />
          <Table fz="xs" mt="xs" aria-label={title}>
            <Table.Tbody>
              {result.rows.map((r) => (
                <Table.Tr key={r.band}>
                  <Table.Td>{r.band}</Table.Td>
                  <Table.Td ta="right" className="tabular">
                    {formatCount(r.customers)}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      )}
    </Paper>
  );
}

function TopCustomers() {
  const top = useTopCustomers(true);
  const profiles = useProfilesById(top.rows.map((r) => r.profile_id));
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="top-title">
      <Title order={2} size="h5" id="top-title" mb="sm">
        Customers worth most{top.percentile !== null ? ` (top ${formatNumber(100 - top.percentile, 1)}%)` : ""}
      </Title>
      {top.error ? (
        <ErrorState error={top.error} />
      ) : top.isPending ? (
        <Loading label="Finding them" />
      ) : top.rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          No customer has a CLV score yet.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={560}>
          <Table aria-label="Customers worth most" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Customer</Table.Th>
                <Table.Th ta="right">CLV</Table.Th>
                <Table.Th ta="right">Still active</Table.Th>
                <Table.Th ta="right">Expected purchases</Table.Th>
                <Table.Th>RFM</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {top.rows.map((r) => (
                <Table.Tr key={r.profile_id}>
                  <Table.Td>
                    <AnchorLink to="/customers/$profileId" params={{ profileId: r.profile_id }}>
                      {profileLabel(profiles.data?.get(r.profile_id), r.profile_id)}
                    </AnchorLink>
                  </Table.Td>
                  <Table.Td ta="right" className="tabular">
                    {formatCurrency(r.scores.clv)}
                  </Table.Td>
                  <Table.Td ta="right" className="tabular">
                    {formatPercent(r.scores.p_alive)}
                  </Table.Td>
                  <Table.Td ta="right" className="tabular">
                    {formatNumber(r.scores.expected_purchases, 2)}
                  </Table.Td>
                  <Table.Td>{r.scores.rfm_segment ?? "–"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Paper>
  );
}

const STATUS_COLORS: Record<string, string> = { ready: "green", error: "red", running: "blue", queued: "blue" };

function Fits() {
  const fits = useQuery({
    ...listClvFitsOptions({ query: { limit: 10 } }),
    refetchInterval: (q) => (q.state.data?.some((f) => isRunning(f.status)) ? 2_000 : 60_000),
  });
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="fits-title">
      <Title order={2} size="h5" id="fits-title" mb="sm">
        Recent fits
      </Title>
      <QueryState query={fits} isEmpty={(d) => d.length === 0} empty={<Text size="sm" c="dimmed">No fit yet.</Text>}>
        {(rows: ClvFitRead[]) => (
          <Table.ScrollContainer minWidth={620}>
            <Table fz="sm" aria-label="Recent fits" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Started</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>By</Table.Th>
                  <Table.Th>Orders up to</Table.Th>
                  <Table.Th ta="right">Took</Table.Th>
                  <Table.Th>Outcome</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((f) => (
                  <Table.Tr key={f.id}>
                    <Table.Td>
                      <RelativeTime value={f.created_at} />
                    </Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[f.status] ?? "gray"} variant="light">
                        {f.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{f.trigger === "schedule" ? "schedule" : "request"}</Table.Td>
                    <Table.Td>{formatDate(f.calibration_end)}</Table.Td>
                    <Table.Td ta="right">{formatDuration(seconds(f.started_at, f.finished_at))}</Table.Td>
                    <Table.Td>
                      <Text size="xs" lineClamp={2}>
                        {f.error ? f.error.message : f.model ? `${formatCount(f.model.customers)} customers scored` : "–"}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
    </Paper>
  );
}
