using System.Diagnostics.Metrics;

namespace BeijingEts.Functions.Tests.Infrastructure;

/// <summary>Adds up the storage requests one app (one storage prefix) sends while this is alive, whatever else runs in the process.</summary>
public sealed class StorageRequestCount : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _value;

    public StorageRequestCount(string prefix)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "BeijingEts" && instrument.Name == "ets.storage.requests") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, measurement, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == EtsTelemetry.StoragePrefixTag && tag.Value as string == prefix) Interlocked.Add(ref _value, measurement);
            }
        });
        _listener.Start();
    }

    public long Value => Interlocked.Read(ref _value);

    public void Dispose() => _listener.Dispose();
}
