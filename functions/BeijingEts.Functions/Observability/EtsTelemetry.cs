using System.Diagnostics;
using System.Diagnostics.Metrics;
using Azure.Monitor.OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace BeijingEts.Functions;

/// <summary>
/// Traces and metrics through OpenTelemetry: to the console locally (Telemetry:Console), to Azure Monitor when
/// APPLICATIONINSIGHTS_CONNECTION_STRING is set. Logs carry the function name and invocation id as scopes.
/// </summary>
public static class EtsTelemetry
{
    public const string Name = "BeijingEts";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);
    public static readonly Counter<long> Invocations = Meter.CreateCounter<long>("ets.function.invocations", description: "Function invocations by outcome");
    public static readonly Histogram<double> InvocationDuration = Meter.CreateHistogram<double>("ets.function.duration", unit: "ms");
    public static readonly Counter<long> LedgerConflicts = Meter.CreateCounter<long>("ets.ledger.conflicts", description: "Ledger legs that lost a race for their account and were retried");
    /// <summary>The tag on <see cref="StorageRequests"/> (and <see cref="MatchLatency"/>) naming the storage prefix of the app that sent them.</summary>
    public const string StoragePrefixTag = "ets.storage.prefix";

    public static readonly Counter<long> StorageRequests = Meter.CreateCounter<long>("ets.storage.requests", description: "Requests the app sent to Table, Blob and Queue storage");

    /// <summary>The tag on <see cref="MatchLatency"/> naming the book (BEA-2025).</summary>
    public const string BookTag = "ets.market.book";

    /// <summary>
    /// For each order placed in a book, the time from its placement until the matcher has matched it (traded, or resting
    /// in the book) and recorded that: how long a participant waits to see where the order stands.
    /// </summary>
    public static readonly Histogram<double> MatchLatency = Meter.CreateHistogram<double>("ets.market.match_latency", unit: "ms",
        description: "From an order's placement until the matcher has recorded it matched");

    public static WebApplicationBuilder AddEtsTelemetry(this WebApplicationBuilder builder)
    {
        var console = builder.Configuration.GetValue("Telemetry:Console", false);
        var azureMonitor = builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Logging.AddSimpleConsole(o => { o.IncludeScopes = true; o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("beijing-ets-functions"))
            .WithTracing(tracing =>
            {
                tracing.AddSource(Name).AddAspNetCoreInstrumentation(o => o.Filter = http => http.Request.Path.StartsWithSegments("/api"));
                if (console) tracing.AddConsoleExporter();
                if (!string.IsNullOrEmpty(azureMonitor)) tracing.AddAzureMonitorTraceExporter(o => o.ConnectionString = azureMonitor);
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Name).AddAspNetCoreInstrumentation();
                if (console) metrics.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000);
                if (!string.IsNullOrEmpty(azureMonitor)) metrics.AddAzureMonitorMetricExporter(o => o.ConnectionString = azureMonitor);
            });
        if (!string.IsNullOrEmpty(azureMonitor))
        {
            otel.WithLogging(logging => logging.AddAzureMonitorLogExporter(o => o.ConnectionString = azureMonitor));
        }
        return builder;
    }
}
