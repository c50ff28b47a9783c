import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus metrics for the process, served at /metrics. */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: "stratus_http_requests_total",
    help: "HTTP requests by service, method and status",
    labelNames: ["service", "method", "status"] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: "stratus_http_request_duration_seconds",
    help: "HTTP request latency by service",
    labelNames: ["service"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "stratus_" });
  }

  /** Record one finished request. */
  observeRequest(service: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ service, method, status: String(status) });
    this.latency.observe({ service }, seconds);
  }

  /** A new counter registered on this registry. */
  counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
