import { createFileRoute } from "@tanstack/react-router";

import { Placeholder } from "../../components/Placeholder";

export const Route = createFileRoute("/_console/analytics")({
  component: () => <Placeholder title="Analytics" description="Web analytics per segment, funnels and journeys." />,
});
