using BeijingEts.Functions.Market;

namespace BeijingEts.Functions.Tests.Market;

/// <summary>
/// The reserve check of auctions and buy-backs runs as the only instance doing it for a vintage. Under load the check
/// once outlived its 15 s lease: a second announcement got in beside it and both counted the same reserve tonnes.
/// It runs alone: the property is about the lease's clock, and a storage emulator stalled for over ten seconds by the
/// rest of the suite (as one CI run saw) would take the renewals with it, which no lease can outlive.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class MarketLockTests(EtsAppFixture app) : IClassFixture<EtsAppFixture>
{
    [Fact]
    public async Task WorkLongerThanTheLease_KeepsItToTheEnd_AndThenFreesIt()
    {
        var locks = app.Storage.Container(StorageNames.Containers.MarketLocks);
        var name = "reserve-test-" + Guid.NewGuid().ToString("N");
        var working = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = MarketLocks.WhileHoldingAsync(locks, name, async () =>
        {
            working.SetResult();
            await Task.Delay(TimeSpan.FromSeconds(22)); // past the 15 s the lease is taken for
            return "done";
        }, TestContext.Current.CancellationToken);
        await working.Task;

        await Task.Delay(TimeSpan.FromSeconds(18), TestContext.Current.CancellationToken);
        Assert.Null(await MarketLocks.TryAcquireAsync(locks, name, TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken)); // still held

        Assert.Equal((true, "done"), await holder);
        var next = await MarketLocks.TryAcquireAsync(locks, name, TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
        Assert.NotNull(next); // released at once, not left to run out
        await next.ReleaseAsync(cancellationToken: TestContext.Current.CancellationToken);
    }
}
