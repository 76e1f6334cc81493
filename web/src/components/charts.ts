// Charts come from @mantine/charts (Recharts underneath); importing them through here brings their styles along,
// only into the screens that draw charts.
import "@mantine/charts/styles.css";

export { AreaChart, BarChart, LineChart, MatrixChart, Sparkline } from "@mantine/charts";
