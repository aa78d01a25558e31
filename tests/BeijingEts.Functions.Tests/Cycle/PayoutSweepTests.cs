using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Tests.Ledger;
using Microsoft.Extensions.DependencyInjection;

namespace BeijingEts.Functions.Tests.Cycle;

/// <summary>
/// A payout of thousands of units records its payments, then pays them in batches; a payment left pending for a
/// minute is meanwhile re-sent by the ledger's sweep (<see cref="ResumePendingTransactions"/>) and settled on its own.
/// Whenever that happens, the payment finds its allowances issued: none is refused and lost for good.
/// </summary>
public sealed class PayoutSweepTests(CycleClockFixture app) : IClassFixture<CycleClockFixture>
{
    private readonly CycleDriver _cycle = new(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PaymentsTheSweepSettlesInTheMiddleOfAPayout_AreAllPaid()
    {
        const int units = 300;
        var (key, _) = await _cycle.YearAsync(units);
        var sweep = ActivatorUtilities.CreateInstance<ResumePendingTransactions>(app.App.Services);
        using var stop = new CancellationTokenSource();
        var sweeps = 0;
        // Every pending payment looks a minute old to each sweep: the clock moves two minutes before it.
        var sweeping = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                app.Clock.Advance(TimeSpan.FromMinutes(2));
                await sweep.RunAsync(new TimerTriggerInfo(false, null, app.Clock.GetUtcNow()), Ct);
                sweeps++;
            }
        }, Ct);

        var run = await _cycle.Regulator.PostAsync($"/api/allocation/{_cycle.Year}/pre-allocation", null, Ct);
        await stop.CancelAsync();
        await sweeping;
        Assert.True(run.IsSuccessStatusCode, await run.Content.ReadAsStringAsync(Ct));
        Assert.True(sweeps > 1, "The sweep never ran during the payout; the test proves nothing.");

        var ledger = new LedgerClient(app);
        var holdings = new Dictionary<string, long>();
        await Eventually.HoldsAsync(async () =>
        {
            foreach (var unit in key.Where(u => holdings.GetValueOrDefault(u) != 7000)) holdings[unit] = await ledger.HoldingAsync(unit, vintage: _cycle.Year);
            return holdings.Values.All(h => h == 7000);
        }, "every unit holds its pre-allocation", TimeSpan.FromSeconds(120));
        Assert.All(key, unit => Assert.Equal(7000, holdings[unit]));
        await ledger.AssertNoDriftAsync();
    }
}
