"""Agent sessions as OpenTelemetry GenAI traces (pure mapping; OTLP encoding needs the ``otel`` extra)."""
