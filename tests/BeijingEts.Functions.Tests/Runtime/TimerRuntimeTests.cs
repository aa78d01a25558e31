using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BeijingEts.Functions.Tests.Runtime;

/// <summary>Fires at the top of every hour.</summary>
[TimerTrigger("0 0 * * * *")]
public sealed class HourlyTimerFunction(TimerLog log) : ITimerFunction
{
    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        log.Fired.Enqueue(timer);
        return Task.CompletedTask;
    }
}

public sealed class TimerLog
{
    public ConcurrentQueue<TimerTriggerInfo> Fired { get; } = new();
}

public class FakeClockFixture : EtsAppFixture
{
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero));
    public TimerLog Log { get; } = new();

    protected override IEnumerable<Type> ExtraFunctions => [typeof(HourlyTimerFunction)];

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Ets:BlobScanDisabled"] = "true",
        // The scheduler's own warnings (an occurrence that could not be invoked), which the other fixtures keep quiet.
        [$"Logging:LogLevel:Function.{nameof(HourlyTimerFunction)}"] = "Warning",
    };

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(Log);
        services.AddSingleton<TimeProvider>(Clock);
    }
}

public sealed class TimerRuntimeTests(FakeClockFixture app) : IClassFixture<FakeClockFixture>
{
    [Fact]
    public async Task HourlyTimer_FiresAtEachHourOfTheFakeClockAndNotBefore()
    {
        var status = app.Service<BeijingEts.Functions.Hosting.Local.TimerStatusStore>();
        var ct = TestContext.Current.CancellationToken;
        await Eventually.HoldsAsync(async () => (await status.GetAsync(nameof(HourlyTimerFunction), ct))?.Next is not null, "the timer is armed");
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), (await status.GetAsync(nameof(HourlyTimerFunction), ct))!.Next);

        app.Clock.Advance(TimeSpan.FromMinutes(29));
        await Task.Delay(300, ct);
        Assert.Empty(app.Log.Fired);

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.HoldsAsync(() => Task.FromResult(app.Log.Fired.Count == 1), "the 10:00 run happened");
        var first = app.Log.Fired.Single();
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), first.Next);
        Assert.False(first.IsPastDue);

        await Eventually.HoldsAsync(async () => (await status.GetAsync(nameof(HourlyTimerFunction), ct))?.Next == new DateTimeOffset(2026, 3, 1, 11, 0, 0, TimeSpan.Zero), "the 11:00 run is armed");
        app.Clock.Advance(TimeSpan.FromHours(1));
        await Eventually.HoldsAsync(() => Task.FromResult(app.Log.Fired.Count == 2), "the 11:00 run happened");
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), app.Log.Fired.Last().Last);
    }
}

/// <summary>The app was down at 09:00, when the timer was due; it comes back at 09:30.</summary>
public sealed class PastDueFixture : FakeClockFixture
{
    protected override async Task SeedAsync(StorageClients storage)
    {
        var table = storage.Table(StorageNames.Tables.TimerStatus);
        await table.CreateIfNotExistsAsync();
        await table.UpsertEntityAsync(new TableEntity("timers", nameof(HourlyTimerFunction))
        {
            ["Last"] = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero),
            ["Next"] = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero),
        });
    }
}

public sealed class PastDueTimerTests(PastDueFixture app) : IClassFixture<PastDueFixture>
{
    [Fact]
    public async Task OccurrenceMissedWhileDown_RunsOnceAtStartUpMarkedPastDue()
    {
        await Eventually.HoldsAsync(() => Task.FromResult(!app.Log.Fired.IsEmpty), "the missed 09:00 run happened");
        var status = app.Service<BeijingEts.Functions.Hosting.Local.TimerStatusStore>();
        await Eventually.HoldsAsync(async () => (await status.GetAsync(nameof(HourlyTimerFunction), TestContext.Current.CancellationToken))?.Next == new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), "the 10:00 run is armed");

        var missed = Assert.Single(app.Log.Fired);
        Assert.True(missed.IsPastDue);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero), missed.Next);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero), missed.Last);
    }
}
