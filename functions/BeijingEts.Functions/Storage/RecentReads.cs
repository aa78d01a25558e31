using System.Collections.Concurrent;
using System.Diagnostics;

namespace BeijingEts.Functions.Storage;

/// <summary>
/// Reference data that changes a few times a year (a year's emission factors, its latest published list) read through a
/// short in-process cache: a value read within <c>maxAge</c> is served again. A write on this instance forgets its key at
/// once, and a read that raced the write is not kept, so only a write on another instance is seen late, by at most
/// <c>maxAge</c>. Nothing found is not kept: what appears is seen at once. With <see cref="TimeSpan.MaxValue"/> as
/// <c>maxAge</c> it keeps what never changes once written (a published revision's lines), bounded by <c>capacity</c>.
/// </summary>
public sealed class RecentReads<TKey, TValue>(TimeSpan maxAge, int capacity = 256) where TKey : notnull where TValue : class
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, long ReadAt)> _values = new();
    private long _writes;

    public async Task<TValue?> GetAsync(TKey key, Func<CancellationToken, Task<TValue?>> read, CancellationToken cancellationToken)
    {
        if (_values.TryGetValue(key, out var hit) && Stopwatch.GetElapsedTime(hit.ReadAt) < maxAge) return hit.Value;
        var writes = Interlocked.Read(ref _writes);
        var startedAt = Stopwatch.GetTimestamp();
        var value = await read(cancellationToken);
        if (value is not null && Interlocked.Read(ref _writes) == writes)
        {
            if (_values.Count >= capacity) _values.Clear();
            _values[key] = (value, startedAt);
        }
        return value;
    }

    /// <summary>Call after writing the key's value: later reads go to storage.</summary>
    public void Forget(TKey key)
    {
        Interlocked.Increment(ref _writes);
        _values.TryRemove(key, out _);
    }
}
