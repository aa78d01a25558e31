using System.Diagnostics.Metrics;

namespace BeijingEts.Bench;

/// <summary>Adds up one of the app's counters (ets.storage.requests, ets.ledger.conflicts) while it is alive.</summary>
public sealed class AppCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _value;

    public AppCounter(string instrumentName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "BeijingEts" && instrument.Name == instrumentName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, measurement, _, _) => Interlocked.Add(ref _value, measurement));
        _listener.Start();
    }

    public long Value => Interlocked.Read(ref _value);

    public void Reset() => Interlocked.Exchange(ref _value, 0);

    public void Dispose() => _listener.Dispose();
}

/// <summary>Keeps every value one of the app's histograms records with a given tag (ets.market.match_latency of one book) while it is alive.</summary>
public sealed class AppHistogram : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly System.Collections.Concurrent.ConcurrentBag<double> _values = [];

    public AppHistogram(string instrumentName, string tag, string value)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "BeijingEts" && instrument.Name == instrumentName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, measurement, tags, _) =>
        {
            foreach (var t in tags)
            {
                if (t.Key == tag && t.Value as string == value) _values.Add(measurement);
            }
        });
        _listener.Start();
    }

    public IReadOnlyCollection<double> Values => _values;

    public void Dispose() => _listener.Dispose();
}
