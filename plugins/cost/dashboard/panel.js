// The cost plugin's dashboard panel: a prebuilt ES module (plain JavaScript, no build step) that the dashboard
// imports at run time and mounts with its host API (docs/plugins.md, "The dashboard panel").

/** Format an amount in the plugin's currency. */
const money = (n, currency) => `${n.toFixed(4)} ${currency}`;

/** Mount the panel: render the project's cost with the host's React and PatternFly components. */
export function mount(host) {
  const { React, pf } = host;
  const h = React.createElement;

  function CostPanel() {
    const [state, setState] = React.useState({ loading: true });
    React.useEffect(() => {
      let live = true;
      host.api
        .get("compute", "/os-cost")
        .then((r) => live && setState({ cost: r.cost }))
        .catch((e) => live && setState({ error: e.message }));
      return () => {
        live = false;
      };
    }, []);
    if (state.loading) return h(pf.Spinner, { size: "lg", "aria-label": "Loading cost" });
    if (state.error)
      return h(pf.Alert, { variant: "danger", isInline: true, title: "Cost unavailable" }, state.error);
    const c = state.cost;
    const item = (term, value, testid) =>
      h(
        pf.DescriptionListGroup,
        null,
        h(pf.DescriptionListTerm, null, term),
        h(pf.DescriptionListDescription, { "data-testid": testid }, value),
      );
    return h(
      pf.Card,
      null,
      h(pf.CardTitle, null, `Project ${host.project.name}`),
      h(
        pf.CardBody,
        null,
        h(
          pf.DescriptionList,
          { isHorizontal: true },
          item("Per hour", money(c.hourly, c.currency), "cost-hourly"),
          item("Per month", money(c.monthly, c.currency), "cost-monthly"),
          item("Servers", String(c.servers.length), "cost-servers"),
          item(
            "Rates",
            `vCPU ${c.rates.vcpu_hour}/h, RAM ${c.rates.ram_gb_hour}/GiB·h, disk ${c.rates.disk_gb_hour}/GiB·h`,
            "cost-rates",
          ),
        ),
      ),
    );
  }

  host.render(h(CostPanel));
}
