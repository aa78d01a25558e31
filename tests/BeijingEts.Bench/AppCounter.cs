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
