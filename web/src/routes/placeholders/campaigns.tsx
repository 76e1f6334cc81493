import { createFileRoute } from "@tanstack/react-router";

import { Placeholder } from "../../components/Placeholder";

export const Route = createFileRoute("/_console/campaigns")({
  component: () => <Placeholder title="Campaigns" description="Create, launch and measure campaigns per segment: A/B tests, holdouts and uplift." />,
});
