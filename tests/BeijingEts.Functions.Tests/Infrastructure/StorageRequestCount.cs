using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace BeijingEts.Functions.Tests.Infrastructure;

/// <summary>
/// The storage requests the app makes to serve one HTTP request: its ets.storage.requests counter (the figure the bench
/// reports per operation), counted for the trace the request carries in its traceparent header, so the app's background
/// polling and the other test classes running at the same time are left out.
/// </summary>
public static class StorageRequestCount
{
    private static readonly ConcurrentDictionary<ActivityTraceId, StrongBox<int>> Traces = new();
    private static readonly MeterListener Listener = Start();

    private static MeterListener Start()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EtsTelemetry.Name && instrument.Name == "ets.storage.requests") l.EnableMeasurementEvents(instrument);
            },
        };
        // The counter is added on the thread that sends the request, inside the HTTP request's activity.
        listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
        {
            if (Activity.Current is { } activity && Traces.TryGetValue(activity.TraceId, out var count)) Interlocked.Add(ref count.Value, (int)value);
        });
        listener.Start();
        return listener;
    }

    /// <summary>Sends the request and returns the answer with the number of storage requests made while serving it.</summary>
    public static async Task<(HttpResponseMessage Response, int StorageRequests)> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _ = Listener;
        var trace = ActivityTraceId.CreateRandom();
        var count = Traces[trace] = new StrongBox<int>();
        try
        {
            request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
            var response = await client.SendAsync(request, cancellationToken);
            return (response, Volatile.Read(ref count.Value));
        }
        finally
        {
            Traces.TryRemove(trace, out _);
        }
    }
}
