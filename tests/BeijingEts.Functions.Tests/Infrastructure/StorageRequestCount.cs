using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace BeijingEts.Functions.Tests.Infrastructure;

/// <summary>
/// Counts the app's storage requests (its ets.storage.requests counter, the figure the bench reports per operation),
/// leaving out what other test classes running at the same time send: either all that one app (one storage prefix)
/// sends while an instance is alive, or, with <see cref="SendAsync"/>, what the app makes to serve one HTTP request,
/// for the trace the request carries in its traceparent header (which also leaves out the app's background polling).
/// </summary>
public sealed class StorageRequestCount : IDisposable
{
    private readonly MeterListener _listener;
    private long _value;

    public StorageRequestCount(string prefix)
    {
        _listener = Listen((value, tags) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == EtsTelemetry.StoragePrefixTag && tag.Value as string == prefix) Interlocked.Add(ref _value, value);
            }
        });
    }

    public long Value => Interlocked.Read(ref _value);

    public void Dispose() => _listener.Dispose();

    private delegate void Measured(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

    private static MeterListener Listen(Measured measured)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EtsTelemetry.Name && instrument.Name == "ets.storage.requests") l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => measured(value, tags));
        listener.Start();
        return listener;
    }

    private static readonly ConcurrentDictionary<ActivityTraceId, StrongBox<int>> Traces = new();

    // The counter is added on the thread that sends the request, inside the HTTP request's activity.
    private static readonly MeterListener TraceListener = Listen((value, _) =>
    {
        if (Activity.Current is { } activity && Traces.TryGetValue(activity.TraceId, out var count)) Interlocked.Add(ref count.Value, (int)value);
    });

    /// <summary>
    /// Runs <paramref name="action"/> (a call into the app's services) under a trace of its own and returns its result with
    /// the number of storage requests it made, leaving out everything else the app sends meanwhile.
    /// </summary>
    public static async Task<(T Result, int StorageRequests)> OfAsync<T>(Func<Task<T>> action)
    {
        _ = TraceListener;
        var trace = ActivityTraceId.CreateRandom();
        var count = Traces[trace] = new StrongBox<int>();
        using var activity = new Activity("storage-request-count").SetParentId(trace, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start();
        try
        {
            var result = await action();
            return (result, Volatile.Read(ref count.Value));
        }
        finally
        {
            Traces.TryRemove(trace, out _);
        }
    }

    /// <summary>Sends the request and returns the answer with the number of storage requests made while serving it.</summary>
    public static async Task<(HttpResponseMessage Response, int StorageRequests)> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _ = TraceListener;
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
