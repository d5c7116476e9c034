"""Operating Workq: Prometheus metrics, OpenTelemetry traces, health endpoints."""
